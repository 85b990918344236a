"""The read cache: its key, its bounds, who it serves, and what retires an entry."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from graphql import parse
from starlette.requests import Request
from starlette.responses import Response

from kimgraph.accounts.principals import ANONYMOUS, Principal, Role
from kimgraph.api import build_schema
from kimgraph.app import create_app
from kimgraph.cacheable import (
    document_cacheable,
    request_identity,
    visibility_class,
)
from kimgraph.clock import FixedClock
from kimgraph.read_cache import ReadCache
from kimgraph.settings import Settings
from tests.conftest import QueryLog, execute
from tests.people import Cast

HOME_DESA = "61.04.16.2006"
QUERY_BOARD = """
query Board($region: String!) {
  announcements(region: $region, first: 100) {
    eventCursor edges { node { id title status validFrom validUntil } }
  }
}
"""
QUERY_BOARD_WITH_KIM = """
query ($region: String!) {
  announcements(region: $region) { edges { node { title kim { name } } } }
}
"""
QUERY_REGION_NAME = "query ($code: String!) { region(code: $code) { code name } }"
QUERY_ASPIRATIONS = """
query ($region: String!) { aspirations(region: $region) { edges { node { title } } } }
"""
QUERY_INTROSPECTION = "{ __schema { queryType { name } } }"
MUTATION_PUBLISH = """
mutation ($input: AnnouncementPublishInput!) {
  announcementPublish(input: $input) {
    announcement { id revision } userErrors { field code message }
  }
}
"""
MUTATION_UPDATE = """
mutation ($id: ID!, $input: AnnouncementUpdateInput!) {
  announcementUpdate(id: $id, input: $input) {
    announcement { revision } userErrors { code message }
  }
}
"""
MUTATION_WITHDRAW = """
mutation ($id: ID!, $reason: String!) {
  announcementWithdraw(id: $id, reason: $reason) {
    announcement { id } userErrors { code message }
  }
}
"""


def board_titles(body: dict[str, Any]) -> list[str]:
    return [e["node"]["title"] for e in body["data"]["announcements"]["edges"]]


async def publish(
    client: httpx.AsyncClient, cast: Cast, title: str, **extra: Any
) -> dict[str, Any]:
    draft = {
        "title": title,
        "body": f"Isi {title}",
        "category": "GENERAL",
        "targets": [HOME_DESA],
    } | extra
    body = await execute(
        client, MUTATION_PUBLISH, {"input": draft}, cast.headers["admin"]
    )
    payload: dict[str, Any] = body["data"]["announcementPublish"]
    assert payload["userErrors"] == []
    return payload


# The key


def test_a_document_and_its_hash_are_one_key() -> None:
    # given
    digest = hashlib.sha256(QUERY_BOARD.encode()).hexdigest()
    variables = {"region": HOME_DESA, "z": 1, "a": [2, 3]}
    reordered = {"a": [2, 3], "region": HOME_DESA, "z": 1}
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    # when
    with_document = request_identity(
        json.dumps({"query": QUERY_BOARD, "variables": variables}).encode()
    )
    with_hash = request_identity(
        json.dumps({"variables": reordered, "extensions": persisted}).encode()
    )
    both = request_identity(
        json.dumps(
            {"query": QUERY_BOARD, "variables": variables, "extensions": persisted}
        ).encode()
    )
    named = request_identity(
        json.dumps(
            {"query": QUERY_BOARD, "variables": variables, "operationName": "Board"}
        ).encode()
    )
    # then
    canonical = '{"a":[2,3],"region":"61.04.16.2006","z":1}'
    assert with_document == with_hash == both == (digest, canonical, None)
    assert named == (digest, canonical, "Board")


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'[{"query": "{ __typename }"}]',  # a batch
        b'{"variables": {}}',  # no document
        b'{"query": "{ __typename }", "variables": [1]}',
        b'{"query": "{ __typename }", "operationName": 3}',
        b'{"query": "{ __typename }", "other": 1}',
        b'{"query": "{ __typename }", "extensions": {"tracing": true}}',
        # A hash that is not the document's: the view answers the mismatch.
        b'{"query": "{ __typename }", "extensions": {"persistedQuery": '
        b'{"version": 1, "sha256Hash": "00"}}}',
        b'{"extensions": {"persistedQuery": {"version": 2, "sha256Hash": "00"}}}',
    ],
)
def test_requests_the_cache_does_not_key(body: bytes) -> None:
    assert request_identity(body) is None


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        (ANONYMOUS, "public"),
        (Principal(role=Role.PARTNER, region_code="61.04", api_key_id=1), "public"),
        (Principal(role=Role.KIM, region_code=HOME_DESA, account_id=3, kim_id=1), None),
        (Principal(role=Role.OFFICER, region_code="61.04.16", account_id=2), None),
        (Principal(role=Role.ADMIN, region_code="61.04", account_id=1), None),
    ],
)
def test_only_callers_without_personal_data_share_answers(
    principal: Principal, expected: str | None
) -> None:
    assert visibility_class(principal) == expected


@pytest.mark.parametrize(
    ("document", "cacheable"),
    [
        (QUERY_BOARD, True),
        ("query ($id: ID!) { announcement(id: $id) { title targets { code } } }", True),
        (QUERY_BOARD_WITH_KIM, False),  # KIM change without an event
        (QUERY_REGION_NAME, False),  # an import renames without an event
        (QUERY_ASPIRATIONS, False),  # deadlines pass without a timer
        (QUERY_INTROSPECTION, False),
        ("{ me { username } }", False),
        (MUTATION_WITHDRAW, False),
    ],
)
def test_only_documents_whose_answers_events_and_time_explain(
    document: str, cacheable: bool
) -> None:
    schema = build_schema(Settings())
    assert document_cacheable(schema._schema, parse(document)) is cacheable


def test_the_cache_stays_within_its_byte_budget() -> None:
    # given
    clock = FixedClock(datetime(2026, 11, 28, 1, 0, tzinfo=UTC))
    cache = ReadCache(20_000)
    cache.follow(lambda: 7, clock)
    # when
    for index in range(100):
        request = Request({"type": "http", "method": "POST", "headers": []})
        request.state.read_cache_key = (f"{index}", "{}", None, False, "public", 7, 0)
        request.state.read_cache_until = clock.now() + timedelta(hours=1)
        request.state.read_cache_cacheable = True
        cache.keep(request, Response(b'{"data":' + b"1" * 2_000 + b"}"))
    # then
    assert 0 < cache.total_bytes <= 20_000
    assert 0 < len(cache) < 100


def test_an_answer_from_before_the_next_change_is_not_kept_after_it() -> None:
    # given: the read started before a validFrom that passed while it ran
    clock = FixedClock(datetime(2026, 11, 28, 1, 0, tzinfo=UTC))
    cache = ReadCache(20_000)
    cache.follow(lambda: 7, clock)
    request = Request({"type": "http", "method": "POST", "headers": []})
    request.state.read_cache_key = ("d", "{}", None, False, "public", 7, 0)
    request.state.read_cache_until = clock.now() + timedelta(seconds=1)
    request.state.read_cache_cacheable = True
    clock.advance(timedelta(seconds=1))
    # when
    cache.keep(request, Response(b'{"data":{}}'))
    # then
    assert len(cache) == 0


# Through the app


async def test_identical_public_reads_execute_once(
    client: httpx.AsyncClient, cast: Cast, sql_log: QueryLog
) -> None:
    # given
    variables = {"region": HOME_DESA}
    # The first run only learns that the document may be cached; the second keeps it.
    await client.post("/graphql", json={"query": QUERY_BOARD, "variables": variables})
    first = await client.post(
        "/graphql", json={"query": QUERY_BOARD, "variables": variables}
    )
    sql_log.statements.clear()
    # when: anonymous again, and a partner key (the same class)
    again = await client.post(
        "/graphql", json={"query": QUERY_BOARD, "variables": variables}
    )
    partner = await client.post(
        "/graphql",
        json={"query": QUERY_BOARD, "variables": variables},
        headers=cast.headers["partner"],
    )
    # then: the partner's key is checked, nothing else is read
    assert again.content == partner.content == first.content
    assert [s for s in sql_log.statements if "announcement" in s] == []
    assert board_titles(first.json()) == [cast.home_announcement.title]


@pytest.mark.parametrize("caller", ["admin", "officer_in_scope", "kim_other_desa"])
async def test_signed_in_reads_are_never_cached(
    client: httpx.AsyncClient, cast: Cast, sql_log: QueryLog, caller: str
) -> None:
    # given
    variables = {"region": HOME_DESA}
    await execute(client, QUERY_BOARD, variables, cast.headers[caller])
    sql_log.statements.clear()
    # when
    await execute(client, QUERY_BOARD, variables, cast.headers[caller])
    # then
    assert [s for s in sql_log.statements if "announcement" in s] != []


async def test_errors_are_not_cached(
    client: httpx.AsyncClient, sql_log: QueryLog
) -> None:
    # given: a well-formed code that names no region
    variables = {"region": "61.04.16.2999"}
    first = await execute(client, QUERY_BOARD, variables)
    sql_log.statements.clear()
    # when
    again = await execute(client, QUERY_BOARD, variables)
    # then
    assert again == first
    assert first["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert sql_log.statements != []


async def test_a_mutation_retires_every_answer_before_it_returns(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: the board cached
    variables = {"region": HOME_DESA}
    before = await execute(client, QUERY_BOARD, variables)
    assert await execute(client, QUERY_BOARD, variables) == before
    # when / then: each change shows in the next read
    created = await publish(client, cast, "Posyandu Sabtu")
    announcement_id = created["announcement"]["id"]
    assert board_titles(await execute(client, QUERY_BOARD, variables)) == [
        "Posyandu Sabtu",
        cast.home_announcement.title,
    ]
    update = {"expectedRevision": 1, "title": "Posyandu Minggu"}
    await execute(
        client,
        MUTATION_UPDATE,
        {"id": announcement_id, "input": update},
        cast.headers["admin"],
    )
    assert board_titles(await execute(client, QUERY_BOARD, variables)) == [
        "Posyandu Minggu",
        cast.home_announcement.title,
    ]
    await execute(
        client,
        MUTATION_WITHDRAW,
        {"id": announcement_id, "reason": "batal"},
        cast.headers["admin"],
    )
    after = await execute(client, QUERY_BOARD, variables)
    assert board_titles(after) == [cast.home_announcement.title]
    # the event cursor moved past the three events
    assert (
        after["data"]["announcements"]["eventCursor"]
        != (before["data"]["announcements"]["eventCursor"])
    )


async def test_scheduled_and_expiring_announcements_follow_the_clock(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given: one scheduled an hour ahead, one expiring in two (no timer runs
    # here, so no event marks either moment: only the time does)
    start = clock.now() + timedelta(hours=1)
    end = clock.now() + timedelta(hours=2)
    await publish(client, cast, "Kerja bakti", validFrom=start.isoformat())
    await publish(client, cast, "Pemadaman listrik", validUntil=end.isoformat())
    variables = {"region": HOME_DESA}
    home = cast.home_announcement.title
    assert board_titles(await execute(client, QUERY_BOARD, variables)) == [
        "Pemadaman listrik",
        home,
    ]
    # when / then
    clock.advance(timedelta(minutes=59, seconds=59))
    assert board_titles(await execute(client, QUERY_BOARD, variables)) == [
        "Pemadaman listrik",
        home,
    ]
    clock.advance(timedelta(seconds=1))
    assert board_titles(await execute(client, QUERY_BOARD, variables)) == [
        "Kerja bakti",
        "Pemadaman listrik",
        home,
    ]
    clock.advance(timedelta(minutes=59, seconds=59))
    assert len(board_titles(await execute(client, QUERY_BOARD, variables))) == 3
    clock.advance(timedelta(seconds=1))
    assert board_titles(await execute(client, QUERY_BOARD, variables)) == [
        "Kerja bakti",
        home,
    ]


async def test_hits_and_misses_are_in_metrics(client: httpx.AsyncClient) -> None:
    # given
    variables = {"region": HOME_DESA}
    for _ in range(4):  # learnt, missed and kept, then two hits
        await execute(client, QUERY_BOARD, variables)
    for _ in range(3):  # not cacheable: learnt once, then never looked up
        await execute(client, QUERY_REGION_NAME, {"code": HOME_DESA})
    # when
    text = (await client.get("/metrics")).text
    # then
    assert "kimgraph_read_cache_hits_total 2\n" in text
    assert "kimgraph_read_cache_misses_total 1\n" in text
    assert "kimgraph_read_cache_entries 1\n" in text


async def test_a_zero_budget_turns_the_cache_off(
    ketapang: str, clock: FixedClock, sql_log: QueryLog
) -> None:
    # given
    app = create_app(Settings(database_url=ketapang, read_cache_bytes=0), clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        await execute(c, QUERY_BOARD, {"region": HOME_DESA})
        sql_log.statements.clear()
        # when
        await execute(c, QUERY_BOARD, {"region": HOME_DESA})
    # then
    assert [s for s in sql_log.statements if "announcement" in s] != []
