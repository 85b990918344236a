"""Text no database stores is refused before anything runs (issue 17, item 4).

Each input once failed as INTERNAL: a lone surrogate (what a JavaScript client
sends when it cuts an emoji in half) in `regions(search:)`, `aspirationTrack`,
`tokenCreate` and `aspirationSubmit` on SQLite; in a reporter's name or
contact on PostgreSQL, where asyncpg's message, logged three times, carried
the value; a NUL character on PostgreSQL. The submission was lost.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from graphql import parse

from kimgraph.input_text import literals_error, variables_error
from tests.people import Cast, snapshot

QUERY_REGIONS = "query ($s: String) { regions(search: $s) { totalCount } }"
QUERY_TRACK = "query ($t: String!) { aspirationTrack(ticket: $t) { title } }"
MUTATION_TOKEN = """
mutation ($input: TokenCreateInput!) {
  tokenCreate(input: $input) { token userErrors { code } }
}
"""
MUTATION_SUBMIT = """
mutation ($input: AspirationSubmitInput!) {
  aspirationSubmit(input: $input) { ticket userErrors { code message } }
}
"""
SURROGATE = "Budi Santoso \U0001f600"[:-1] + "\ud800"  # an emoji cut in half
NUL = "Budi\x00Santoso"
SURROGATE_PROBLEM = "a lone surrogate (U+D800 to U+DFFF: half of a character)"
NUL_PROBLEM = "a NUL character (U+0000)"


def submission(**fields: str) -> dict[str, Any]:
    return {
        "input": {
            "region": "61.04.16.2006",
            "title": "Jalan longsor",
            "description": "Badan jalan longsor sepanjang 20 meter.",
            "category": "INFRASTRUCTURE",
            "reporterName": "Hartini",
            "reporterContact": "0812-5550-8642",
        }
        | fields
    }


# (query, variables with the text in them, where the refusal says it was)
CASES: dict[str, tuple[str, Callable[[str], dict[str, Any]], str]] = {
    "regions search": (QUERY_REGIONS, lambda text: {"s": text}, "s"),
    "aspirationTrack": (QUERY_TRACK, lambda text: {"t": text}, "t"),
    "tokenCreate username": (
        MUTATION_TOKEN,
        lambda text: {"input": {"username": text, "password": "kata-sandi-123"}},
        "input.username",
    ),
    "tokenCreate password": (
        MUTATION_TOKEN,
        lambda text: {"input": {"username": "admin", "password": text}},
        "input.password",
    ),
    "aspirationSubmit reporterName": (
        MUTATION_SUBMIT,
        lambda text: submission(reporterName=text),
        "input.reporterName",
    ),
    "aspirationSubmit reporterContact": (
        MUTATION_SUBMIT,
        lambda text: submission(reporterContact=text),
        "input.reporterContact",
    ),
}


async def post(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any]
) -> httpx.Response:
    """POST as a browser does: JSON escapes a lone surrogate as \\ud800."""
    body = json.dumps({"query": query, "variables": variables})
    return await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )


@pytest.mark.parametrize(
    ("text", "problem"), [(SURROGATE, SURROGATE_PROBLEM), (NUL, NUL_PROBLEM)]
)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.usefixtures("no_errors_logged")
async def test_unstorable_text_in_a_variable_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, cast: Cast, case: str, text: str, problem: str
) -> None:
    # given
    query, variables, where = CASES[case]
    before = await snapshot()
    # when
    response = await post(client, query, variables(text))
    # then
    assert response.status_code == 200
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": f"${where} holds {problem}: send well-formed Unicode text.",
                "extensions": {"code": "INVALID_ARGUMENT", "variable": where},
            }
        ],
    }
    assert await snapshot() == before


@pytest.mark.usefixtures("no_errors_logged")
async def test_a_nul_in_a_string_literal_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: the parser refuses a surrogate in the document, not the escape \u0000
    query = (
        'mutation { aspirationSubmit(input: {region: "61.04.16.2006", '
        'title: "Jalan", description: "Longsor", category: INFRASTRUCTURE, '
        'reporterName: "Budi\\u0000"}) { ticket } }'
    )
    before = await snapshot()
    # when
    response = await post(client, query, {})
    # then
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": f"A string in the document holds {NUL_PROBLEM}: "
                "send well-formed Unicode text.",
                "locations": [{"line": 1, "column": 142}],
                "extensions": {"code": "INVALID_ARGUMENT"},
            }
        ],
    }
    assert await snapshot() == before


@pytest.mark.usefixtures("no_errors_logged")
async def test_well_formed_text_beyond_the_basic_plane_is_stored(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: a whole emoji, a surrogate pair in JSON
    name = "Budi Santoso \U0001f600"
    # when
    response = await post(client, MUTATION_SUBMIT, submission(reporterName=name))
    # then
    payload = response.json()["data"]["aspirationSubmit"]
    assert payload["userErrors"] == []
    assert len([row for row in (await snapshot())["aspiration"] if name in row]) == 1


@pytest.mark.parametrize(
    ("variables", "where"),
    [
        ({"a": ["ok", {"b": ["x", "y\ud800"]}]}, "a[1].b[1]"),
        ({"a": {"k\x00": 1}}, "a"),
        ({"\udc00": 1}, ""),
        ({"a": "\udfff"}, "a"),
    ],
)
def test_the_refusal_names_where_the_text_was_at_any_depth(
    variables: dict[str, Any], where: str
) -> None:
    error = variables_error(variables)
    assert error is not None
    assert error.extensions == {"code": "INVALID_ARGUMENT", "variable": where}
    assert "\ud800" not in error.message
    assert "\x00" not in error.message


def test_text_of_every_plane_numbers_and_nulls_pass() -> None:
    variables = {"a": ["Ketapang \U0001f600 \u00e9\u4e2d", 1, 2.5, None, True]}
    assert variables_error(variables) is None
    assert variables_error(None) is None
    assert literals_error(None) is None
    escaped = '{ regions(search: "caf\\u00e9 \\u{1F600}") { totalCount } }'
    assert literals_error(parse(escaped), escaped) is None
    assert literals_error(parse(escaped.replace("e9", "00")), None) is not None
