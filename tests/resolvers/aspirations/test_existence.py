"""An aspiration a caller may not read looks, to every mutation, like none at all.

Before, an out-of-scope transition, response or moderation answered "the
aspiration's region 61.04.16.1004 lies outside your region …" for ids that
`aspiration(id:)` reported as null: an oracle of existence and region.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kimgraph.cursors import encode_id
from tests.conftest import execute
from tests.people import Cast, snapshot
from tests.resolvers.aspirations.steps import (
    MUTATION_ASPIRATION_MODERATE,
    MUTATION_ASPIRATION_RESPOND,
    MUTATION_ASPIRATION_TRANSITION,
    QUERY_ASPIRATION,
    submit,
)

KELURAHAN = "61.04.16.1004"  # Sampit, Delta Pawan
MISSING = encode_id("Aspiration", "999999")
OPERATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "aspirationTransition": (
        MUTATION_ASPIRATION_TRANSITION,
        {"input": {"to": "VERIFIED", "expectedVersion": 1}},
    ),
    "aspirationRespond": (
        MUTATION_ASPIRATION_RESPOND,
        {"input": {"message": "Sedang ditinjau."}},
    ),
    "aspirationModerate": (
        MUTATION_ASPIRATION_MODERATE,
        {"input": {"hidden": True, "reason": "Kata kasar"}},
    ),
}
NOT_FOUND = [
    {"field": ["id"], "code": "NOT_FOUND", "message": "there is no such aspiration"}
]


@pytest.mark.parametrize(
    ("operation", "principal"),
    [
        ("aspirationTransition", "officer_out_of_scope"),
        ("aspirationTransition", "kim_other_desa"),
        ("aspirationRespond", "officer_out_of_scope"),
        ("aspirationModerate", "officer_out_of_scope"),
    ],
)
async def test_an_unreadable_aspiration_is_answered_as_a_missing_one(
    client: httpx.AsyncClient, cast: Cast, operation: str, principal: str
) -> None:
    # given: an aspiration in Kelurahan Sampit (61.04.16.1004), and a caller
    # outside Delta Pawan to whom aspiration(id:) shows nothing
    aspiration = await submit(client, cast, "officer_in_scope", region=KELURAHAN)
    headers = cast.headers[principal]
    read = await execute(client, QUERY_ASPIRATION, {"id": aspiration["id"]}, headers)
    assert read == {"data": {"aspiration": None}}
    query, variables = OPERATIONS[operation]
    before = await snapshot()
    # when
    existing = await execute(
        client, query, variables | {"id": aspiration["id"]}, headers
    )
    missing = await execute(client, query, variables | {"id": MISSING}, headers)
    # then: the same answer, word for word, and nothing changed
    expected: dict[str, Any] = {"aspiration": None, "userErrors": NOT_FOUND}
    if operation == "aspirationRespond":
        expected = {"response": None} | expected
    assert missing == {"data": {operation: expected}}
    assert existing == missing
    assert await snapshot() == before
