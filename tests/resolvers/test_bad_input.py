"""Ids, cursors and times no row can have: clear errors, nothing changed, no bug logged.

Each input once failed as INTERNAL with a traceback in the log: a Unicode digit
that isdigit() accepts and int() refuses, a number beyond the id column
(PostgreSQL's integer, SQLite's 64 bits), a time without an offset or one that
UTC cannot hold.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from kimgraph.app import create_app
from kimgraph.clock import FixedClock
from kimgraph.cursors import CursorKind, encode_cursor, encode_event_cursor, encode_id
from kimgraph.settings import Settings
from tests.conftest import execute
from tests.kimgraph.live.serving import serving
from tests.people import Cast, snapshot

QUERY_NODE = "query ($id: ID!) { node(id: $id) { id } }"
QUERY_ANNOUNCEMENT = "query ($id: ID!) { announcement(id: $id) { title } }"
QUERY_ASPIRATION = "query ($id: ID!) { aspiration(id: $id) { title } }"
QUERY_KIMS = "query ($after: String) { kims(after: $after) { totalCount } }"
QUERY_ASPIRATIONS = (
    "query ($after: String) { aspirations(after: $after) { totalCount } }"
)
QUERY_BOARD = """
query ($after: String) {
  announcements(region: "61.04.16.2006", after: $after) { totalCount }
}
"""
QUERY_REGION_BOARD = """
query ($after: String) {
  region(code: "61.04.16.2006") { announcements(after: $after) { totalCount } }
}
"""
MUTATION_WITHDRAW = """
mutation ($id: ID!) {
  announcementWithdraw(id: $id, reason: "Salah ketik") {
    announcement { title }
    userErrors { field code message }
  }
}
"""
MUTATION_KIM_UPDATE = """
mutation ($id: ID!) {
  kimUpdate(id: $id, input: {name: "KIM Baru"}) {
    kim { name }
    userErrors { field code message }
  }
}
"""
MUTATION_PUBLISH = """
mutation ($input: AnnouncementPublishInput!) {
  announcementPublish(input: $input) {
    announcement { title }
    userErrors { field code message }
  }
}
"""
MUTATION_UPDATE = """
mutation ($id: ID!, $input: AnnouncementUpdateInput!) {
  announcementUpdate(id: $id, input: $input) {
    announcement { title }
    userErrors { field code message }
  }
}
"""
DESA = "61.04.16.2006"
AT = "2026-11-28T01:00:00+00:00"
# Past PostgreSQL's integer, past SQLite's 64-bit integer, past both by far.
OUT_OF_RANGE = [str(2**31), str(2**63), "1" + "0" * 30]
# Unicode digits: "²" passes isdigit() only, "٣" (Arabic-Indic three)
# isdecimal() too, and 5,000 digits are more than int() converts.
NOT_ASCII = ["²", "٣", "9" * 5000]
SUBSCRIPTION_EVENTS = """
subscription ($after: String) {
  announcementEvents(region: "61.04.16.2006", after: $after) { cursor }
}
"""
DEADLINE_S = 30.0
NO_OFFSET = "needs a UTC offset, e.g. 2030-01-01T08:00:00+07:00 (WIB)"
BEYOND_UTC = "lies outside the years 1-9999 once converted to UTC"


@pytest.mark.parametrize("key", OUT_OF_RANGE + NOT_ASCII)
@pytest.mark.parametrize("type_name", ["Kim", "KimMember", "Aspiration"])
@pytest.mark.usefixtures("no_errors_logged")
async def test_a_node_id_whose_key_no_row_can_have_is_null(
    client: httpx.AsyncClient, cast: Cast, type_name: str, key: str
) -> None:
    # when
    body = await execute(
        client, QUERY_NODE, {"id": encode_id(type_name, key)}, cast.headers["admin"]
    )
    # then
    assert body == {"data": {"node": None}}


@pytest.mark.parametrize("key", ["x" * 5000, "61.04.16.2006٣", "٦١"])
@pytest.mark.parametrize("type_name", ["Provinsi", "Desa"])
@pytest.mark.usefixtures("no_errors_logged")
async def test_a_region_node_id_whose_key_is_no_code_is_null(
    client: httpx.AsyncClient, type_name: str, key: str
) -> None:
    # when
    body = await execute(client, QUERY_NODE, {"id": encode_id(type_name, key)})
    # then
    assert body == {"data": {"node": None}}


@pytest.mark.parametrize("key", OUT_OF_RANGE + NOT_ASCII)
@pytest.mark.parametrize(
    ("query", "type_name", "field"),
    [
        pytest.param(
            QUERY_ANNOUNCEMENT, "Announcement", "announcement", id="announcement"
        ),
        pytest.param(QUERY_ASPIRATION, "Aspiration", "aspiration", id="aspiration"),
    ],
)
@pytest.mark.usefixtures("no_errors_logged")
async def test_a_lookup_by_an_id_whose_key_no_row_can_have_is_null(
    client: httpx.AsyncClient,
    cast: Cast,
    query: str,
    type_name: str,
    field: str,
    key: str,
) -> None:
    # when
    body = await execute(
        client, query, {"id": encode_id(type_name, key)}, cast.headers["admin"]
    )
    # then
    assert body == {"data": {field: None}}


@pytest.mark.parametrize("key", OUT_OF_RANGE + NOT_ASCII)
@pytest.mark.parametrize(
    ("mutation", "type_name", "field", "payload", "message"),
    [
        pytest.param(
            MUTATION_WITHDRAW,
            "Announcement",
            "announcementWithdraw",
            "announcement",
            "there is no such announcement",
            id="announcementWithdraw",
        ),
        pytest.param(
            MUTATION_KIM_UPDATE,
            "Kim",
            "kimUpdate",
            "kim",
            "there is no such KIM",
            id="kimUpdate",
        ),
    ],
)
@pytest.mark.usefixtures("no_errors_logged")
async def test_a_mutation_on_an_id_whose_key_no_row_can_have_is_not_found(
    client: httpx.AsyncClient,
    cast: Cast,
    mutation: str,
    type_name: str,
    field: str,
    payload: str,
    message: str,
    key: str,
) -> None:
    # given
    before = await snapshot()
    # when
    body = await execute(
        client, mutation, {"id": encode_id(type_name, key)}, cast.headers["admin"]
    )
    # then
    assert body == {
        "data": {
            field: {
                payload: None,
                "userErrors": [
                    {"field": ["id"], "code": "NOT_FOUND", "message": message}
                ],
            }
        }
    }
    assert await snapshot() == before


def cursor_error(
    cursor: str, path: list[str], line: int, column: int
) -> dict[str, Any]:
    """The error of a list given a cursor it did not hand out."""
    return {
        "message": f"{cursor!r} is not a cursor of this list; pass an endCursor or "
        "edge cursor it returned",
        "locations": [{"line": line, "column": column}],
        "path": path,
        "extensions": {"code": "INVALID_CURSOR"},
    }


@pytest.mark.parametrize("key", OUT_OF_RANGE + NOT_ASCII)
@pytest.mark.parametrize(
    ("query", "kind", "field", "column"),
    [
        pytest.param(QUERY_KIMS, CursorKind.KIM, "kims", 26, id="kims"),
        pytest.param(
            QUERY_ASPIRATIONS,
            CursorKind.ASPIRATION,
            "aspirations",
            26,
            id="aspirations",
        ),
    ],
)
@pytest.mark.usefixtures("no_errors_logged")
async def test_a_list_cursor_beyond_the_id_column_is_invalid(
    client: httpx.AsyncClient,
    cast: Cast,
    query: str,
    kind: CursorKind,
    field: str,
    column: int,
    key: str,
) -> None:
    # given
    cursor = encode_cursor(kind, key)
    # when
    body = await execute(client, query, {"after": cursor}, cast.headers["admin"])
    # then
    assert body == {"data": None, "errors": [cursor_error(cursor, [field], 1, column)]}


BAD_BOARD_KEYS = [
    *[(2, AT, key) for key in OUT_OF_RANGE + NOT_ASCII],
    *[(priority, AT, 1) for priority in ["3", "-1", *OUT_OF_RANGE]],
    (2, "2026-11-28T01:00:00", 1),  # no offset
    (2, "9999-12-31T23:59:59-14:00", 1),  # past year 9999 in UTC
    (2, "0001-01-01T00:00:00+14:00", 1),  # before year 1 in UTC
]


@pytest.mark.parametrize("key", BAD_BOARD_KEYS)
@pytest.mark.usefixtures("no_errors_logged")
async def test_a_board_cursor_no_row_can_have_is_invalid(
    client: httpx.AsyncClient, cast: Cast, key: tuple[object, ...]
) -> None:
    # given
    cursor = encode_cursor(CursorKind.ANNOUNCEMENT, *key)
    # when
    board = await execute(client, QUERY_BOARD, {"after": cursor})
    region_board = await execute(client, QUERY_REGION_BOARD, {"after": cursor})
    # then
    assert board == {
        "data": None,
        "errors": [cursor_error(cursor, ["announcements"], 3, 3)],
    }
    assert region_board == {
        "data": {"region": None},
        "errors": [cursor_error(cursor, ["region", "announcements"], 3, 35)],
    }


def publish_input(**times: str) -> dict[str, Any]:
    return {
        "input": {
            "title": "Rapat desa",
            "body": "Rapat di balai desa.",
            "category": "GENERAL",
            "targets": [DESA],
            **times,
        }
    }


@pytest.mark.parametrize(
    ("times", "errors"),
    [
        (
            {"validFrom": "2030-01-01T08:00:00"},
            [(["input", "validFrom"], NO_OFFSET)],
        ),
        (
            {"validUntil": "2030-01-01T08:00:00"},
            [(["input", "validUntil"], NO_OFFSET)],
        ),
        (
            {"validFrom": "2030-01-01T08:00:00", "validUntil": "2030-01-02T08:00:00"},
            [(["input", "validFrom"], NO_OFFSET), (["input", "validUntil"], NO_OFFSET)],
        ),
        (
            {"validUntil": "9999-12-31T23:59:59-14:00"},
            [(["input", "validUntil"], BEYOND_UTC)],
        ),
        (
            {"validFrom": "0001-01-01T00:00:00+14:00"},
            [(["input", "validFrom"], BEYOND_UTC)],
        ),
    ],
)
@pytest.mark.usefixtures("no_errors_logged")
async def test_publishing_with_a_time_that_names_no_instant_changes_nothing(
    client: httpx.AsyncClient,
    cast: Cast,
    times: dict[str, str],
    errors: list[tuple[list[str], str]],
) -> None:
    # given
    before = await snapshot()
    # when
    body = await execute(
        client,
        MUTATION_PUBLISH,
        publish_input(**times),
        cast.headers["officer_in_scope"],
    )
    # then
    assert body == {
        "data": {
            "announcementPublish": {
                "announcement": None,
                "userErrors": [
                    {"field": field, "code": "INVALID", "message": message}
                    for field, message in errors
                ],
            }
        }
    }
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("valid_until", "message"),
    [("2030-01-01T08:00:00", NO_OFFSET), ("9999-12-31T23:59:59-14:00", BEYOND_UTC)],
)
@pytest.mark.usefixtures("no_errors_logged")
async def test_updating_with_a_time_that_names_no_instant_changes_nothing(
    client: httpx.AsyncClient, cast: Cast, valid_until: str, message: str
) -> None:
    # given
    before = await snapshot()
    variables = {
        "id": encode_id("Announcement", cast.home_announcement.id),
        "input": {"expectedRevision": 1, "validUntil": valid_until},
    }
    # when
    body = await execute(
        client, MUTATION_UPDATE, variables, cast.headers["officer_in_scope"]
    )
    # then
    assert body == {
        "data": {
            "announcementUpdate": {
                "announcement": None,
                "userErrors": [
                    {
                        "field": ["input", "validUntil"],
                        "code": "INVALID",
                        "message": message,
                    }
                ],
            }
        }
    }
    assert await snapshot() == before


@pytest.fixture
async def ws_url(ketapang: str, clock: FixedClock) -> AsyncIterator[str]:
    """The app served by a real uvicorn in this event loop: its WebSocket URL."""
    app = create_app(Settings(database_url=ketapang), clock, manage_database=False)
    async with serving(app) as (port, _):
        yield f"ws://127.0.0.1:{port}/graphql"


@pytest.mark.parametrize("position", [str(2**63), "1" + "0" * 30, *NOT_ASCII])
@pytest.mark.usefixtures("no_errors_logged")
async def test_an_event_cursor_beyond_the_event_log_column_is_invalid(
    ws_url: str, position: str
) -> None:
    # given
    cursor = encode_event_cursor(position)  # type: ignore[arg-type]
    subscribe = {
        "id": "s",
        "type": "subscribe",
        "payload": {"query": SUBSCRIPTION_EVENTS, "variables": {"after": cursor}},
    }
    # when
    async with connect(
        ws_url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        proxy=None,
        open_timeout=DEADLINE_S,
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        await ws.send(json.dumps(subscribe))
        answer = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_S))
    # then
    message = (
        f"{cursor!r} is not an event cursor; pass an event's cursor or an eventCursor"
    )
    assert answer == {
        "id": "s",
        "type": "next",
        "payload": {
            "data": None,
            "errors": [{"message": message, "extensions": {"code": "INVALID_CURSOR"}}],
        },
    }
