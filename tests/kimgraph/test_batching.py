"""Query batching (a JSON array of operations; kimgraph/view.py, docs/http.md).

At most KIMGRAPH_MAX_BATCH operations, queries only, each admitted and costed
alone; a persisted query's hash works inside a batch too.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from tests.people import Cast, snapshot

KECAMATAN = 'query Kecamatan { region(code: "61.04.16") { code name } }'
KABUPATEN = 'query Kabupaten { region(code: "61.04") { code name } }'
# Every desa of every kabupaten of a page, each with its ancestors: far over
# the default cost budget of 50,000.
DEAR = """
query Dear {
  regions(first: 100) {
    edges { node { ... on Kabupaten { kecamatan { desa { ancestors { name } } } } } }
  }
}
"""


def refused(message: str) -> dict[str, Any]:
    return {
        "data": None,
        "errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}],
    }


@pytest.mark.usefixtures("no_errors_logged")
async def test_a_batch_of_two_answers_a_list_of_two(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post(
        "/graphql", json=[{"query": KECAMATAN}, {"query": KABUPATEN}]
    )
    assert (answer.status_code, answer.json()) == (
        200,
        [
            {"data": {"region": {"code": "61.04.16", "name": "Delta Pawan"}}},
            {"data": {"region": {"code": "61.04", "name": "Kabupaten Ketapang"}}},
        ],
    )


@pytest.mark.usefixtures("no_errors_logged")
async def test_a_batch_over_the_bound_is_refused_whole(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post("/graphql", json=[{"query": KECAMATAN}] * 11)
    assert (answer.status_code, answer.json()) == (400, refused("Too many operations"))
    at_bound = await client.post("/graphql", json=[{"query": KECAMATAN}] * 10)
    assert at_bound.status_code == 200
    assert len(at_bound.json()) == 10


@pytest.mark.usefixtures("no_errors_logged")
async def test_each_dear_query_of_a_batch_is_refused_by_the_cost_limit(
    client: httpx.AsyncClient,
) -> None:
    alone = (await client.post("/graphql", json={"query": DEAR})).json()
    assert alone["data"] is None
    assert [e["extensions"]["code"] for e in alone["errors"]] == ["QUERY_TOO_COMPLEX"]
    answer = await client.post("/graphql", json=[{"query": DEAR}] * 10)
    assert (answer.status_code, answer.json()) == (200, [alone] * 10)
    mixed = await client.post("/graphql", json=[{"query": DEAR}, {"query": KECAMATAN}])
    assert mixed.json() == [
        alone,
        {"data": {"region": {"code": "61.04.16", "name": "Delta Pawan"}}},
    ]


@pytest.mark.usefixtures("no_errors_logged")
async def test_a_batch_holding_a_mutation_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    before = await snapshot()
    mutation = """
    mutation { tokenRevoke { revoked } }
    """
    answer = await client.post(
        "/graphql",
        json=[{"query": KECAMATAN}, {"query": mutation}],
        headers=cast.headers["officer_in_scope"],
    )
    assert (answer.status_code, answer.json()) == (
        400,
        refused(
            "A batch holds queries only: send each mutation in a request of its own"
        ),
    )
    assert await snapshot() == before


@pytest.mark.usefixtures("no_errors_logged")
async def test_a_batch_without_a_query_is_refused(client: httpx.AsyncClient) -> None:
    answer = await client.post("/graphql", json=[{"query": KECAMATAN}, {}])
    assert (answer.status_code, answer.json()) == (
        400,
        refused("No GraphQL query found in the request"),
    )


@pytest.mark.usefixtures("no_errors_logged")
async def test_persisted_queries_work_inside_a_batch(
    client: httpx.AsyncClient,
) -> None:
    sha = hashlib.sha256(KECAMATAN.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha}}
    first = await client.post("/graphql", json=[{"extensions": extensions}])
    assert first.json()[0]["errors"][0]["extensions"]["code"] == (
        "PERSISTED_QUERY_NOT_FOUND"
    )
    learnt = await client.post(
        "/graphql", json=[{"query": KECAMATAN, "extensions": extensions}]
    )
    hashed = await client.post(
        "/graphql", json=[{"extensions": extensions}, {"query": KABUPATEN}]
    )
    kecamatan = {"data": {"region": {"code": "61.04.16", "name": "Delta Pawan"}}}
    assert learnt.json() == [kecamatan]
    assert hashed.json() == [
        kecamatan,
        {"data": {"region": {"code": "61.04", "name": "Kabupaten Ketapang"}}},
    ]
