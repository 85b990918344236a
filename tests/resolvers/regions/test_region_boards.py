"""`Region.announcements`: the board query's pages, read for many regions at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx
import pytest

from kimgraph import announcements, models
from kimgraph.announcements import boards as boards_module
from kimgraph.announcements.boards import BoardKey, Fetched, boards_by_keys
from kimgraph.announcements.queries import AnnouncementFilter, board_page, page_key
from kimgraph.clock import FixedClock
from kimgraph.cursors import CursorKind, encode_cursor, encode_id
from tests.conftest import QueryLog, execute
from tests.people import HOME_DESA, ROOT, Cast, nobody_listens

MUTATION_PUBLISH = """
mutation ($input: AnnouncementPublishInput!) {
  announcementPublish(input: $input) { userErrors { code } }
}
"""
MUTATION_WITHDRAW = """
mutation ($id: ID!) {
  announcementWithdraw(id: $id, reason: "Batal") { userErrors { code } }
}
"""
PAGE = """
totalCount eventCursor
pageInfo { hasNextPage endCursor }
edges { cursor node { title priority status } }
"""
QUERY_BOARD = f"""
query ($region: String!, $active: Boolean, $first: Int, $after: String) {{
  announcements(region: $region, activeOnly: $active, first: $first, after: $after) {{
    {PAGE}
  }}
}}
"""
QUERY_REGION_BOARD = f"""
query ($region: String!, $active: Boolean, $first: Int, $after: String) {{
  region(code: $region) {{
    announcements(activeOnly: $active, first: $first, after: $after) {{
      {PAGE}
    }}
  }}
}}
"""
QUERY_CHILDREN_BOARDS = """
query ($region: String!, $first: Int) {
  region(code: $region) {
    children(first: $first) {
      edges {
        node {
          code
          announcements(first: 2) {
            totalCount eventCursor edges { cursor node { title } }
          }
        }
      }
    }
  }
}
"""
QUERY_DESA_BOARDS = """
query ($region: String!, $first: Int, $after: String) {
  region(code: $region) {
    ... on Kecamatan {
      desa {
        code
        announcements(activeOnly: false, first: $first, after: $after) {
          totalCount
          pageInfo { hasNextPage endCursor }
          edges { node { title } }
        }
      }
    }
  }
}
"""
KABUPATEN = "61.04"
KECAMATAN = "61.04.16"
SIBLING_DESA = "61.04.16.2007"


async def publish(
    client: httpx.AsyncClient, cast: Cast, title: str, target: str, **extra: Any
) -> None:
    variables = {
        "input": {
            "title": title,
            "body": f"Isi {title}",
            "category": "GENERAL",
            "targets": [target],
        }
        | extra
    }
    body = await execute(client, MUTATION_PUBLISH, variables, cast.headers["admin"])
    assert body["data"]["announcementPublish"]["userErrors"] == []


def kabar(title: str, *targets: str, **extra: Any) -> announcements.Draft:
    """A GENERAL announcement for these regions."""
    return announcements.Draft(
        title=title,
        body=f"Isi {title}",
        category=models.AnnouncementCategory.GENERAL,
        targets=targets,
        **extra,
    )


async def publish_history(clock: FixedClock, count: int) -> list[str]:
    """`count` announcements for the whole kabupaten; their titles, newest first."""
    titles = [f"Kabar {n:02}" for n in range(count)]
    for title in titles:
        await announcements.publish(
            clock, nobody_listens, ROOT, kabar(title, KABUPATEN)
        )
    return titles[::-1]


def announcement_cursor(row: models.Announcement) -> str:
    """The cursor of an announcement in board order."""
    return encode_cursor(CursorKind.ANNOUNCEMENT, *page_key(row))


async def two_pages(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Two pages of two of every desa board of the kecamatan.

    The second page of each board starts after the home desa's first page:
    every board there shows the same kabupaten announcements.
    """
    pages: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(2):
        variables = {"region": KECAMATAN, "first": 2, "after": after}
        body = await execute(client, QUERY_DESA_BOARDS, variables)
        pages.append(body)
        home = next(d for d in body["data"]["region"]["desa"] if d["code"] == HOME_DESA)
        after = home["announcements"]["pageInfo"]["endCursor"]
    return pages


def record_statements(monkeypatch: pytest.MonkeyPatch) -> list[Fetched]:
    """What each boards statement read, in order."""
    statements: list[Fetched] = []
    fetch = boards_module.fetch_boards

    async def recorded(keys: Sequence[BoardKey]) -> Fetched:
        fetched = await fetch(keys)
        statements.append(fetched)
        return fetched

    monkeypatch.setattr(boards_module, "fetch_boards", recorded)
    return statements


@pytest.mark.parametrize("reader", ["anonymous", "admin"])
@pytest.mark.parametrize("active", [True, False])
async def test_a_region_pages_its_board_as_the_board_query_does(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock, active: bool, reader: str
) -> None:
    # given: every priority, above and beside the desa, scheduled, expired and
    # withdrawn ones, several with one validFrom (ordered by id then)
    await publish(client, cast, "Banjir", KECAMATAN, priority="EMERGENCY")
    await publish(client, cast, "Rapat", "61.04", priority="IMPORTANT")
    await publish(client, cast, "Pasar", HOME_DESA)
    await publish(client, cast, "Tetangga", SIBLING_DESA)
    await publish(
        client, cast, "Nanti", HOME_DESA, validFrom="2026-11-29T00:00:00+00:00"
    )
    await publish(
        client, cast, "Sebentar", HOME_DESA, validUntil="2026-11-28T02:00:00+00:00"
    )
    withdrawn = encode_id("Announcement", cast.home_announcement.id)
    await execute(client, MUTATION_WITHDRAW, {"id": withdrawn}, cast.headers["admin"])
    clock.advance(timedelta(hours=2))
    # when: both paged through two at a time, each after its own end cursor
    pages: dict[str, list[dict[str, Any]]] = {"board": [], "region": []}
    for name, query in (("board", QUERY_BOARD), ("region", QUERY_REGION_BOARD)):
        after = None
        # At most 7 items, 2 a page: a cursor that never advances fails, not hangs.
        for _ in range(4):
            variables = {"region": HOME_DESA, "active": active, "first": 2}
            body = await execute(
                client, query, variables | {"after": after}, cast.headers[reader]
            )
            data = body["data"]
            page = (
                data["announcements"]
                if name == "board"
                else data["region"]["announcements"]
            )
            pages[name].append(page)
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    # then: the same pages, cursors and positions; nothing from the sibling desa
    assert pages["region"] == pages["board"]
    shown = [e["node"]["title"] for page in pages["region"] for e in page["edges"]]
    if active:
        assert shown == ["Banjir", "Rapat", "Pasar"]
    else:
        # The scheduled "Nanti" only for staff over its target.
        scheduled = ["Nanti"] if reader == "admin" else []
        assert shown == [
            "Banjir",
            "Rapat",
            *scheduled,
            "Sebentar",
            "Pasar",
            "Posyandu Suka Bangun",
        ]


async def test_a_cursor_of_another_list_is_refused_by_a_region_board(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: a cursor of the KIM list
    foreign = encode_cursor(CursorKind.KIM, cast.home_kim.id)
    # when
    body = await execute(
        client, QUERY_REGION_BOARD, {"region": HOME_DESA, "after": foreign}
    )
    # then
    assert body["data"] == {"region": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_CURSOR"]
    assert body["errors"][0]["path"] == ["region", "announcements"]
    assert body["errors"][0]["message"] == (
        f"{foreign!r} is not a cursor of this list; pass an endCursor or edge "
        "cursor it returned"
    )


async def test_the_boards_of_many_regions_cost_the_queries_of_one(
    client: httpx.AsyncClient, cast: Cast, sql_log: QueryLog
) -> None:
    # given: the cast's announcement for the home desa, and one for the kecamatan
    await publish(client, cast, "Banjir", KECAMATAN, priority="EMERGENCY")
    sql_log.statements.clear()
    # when: the boards of one region of the kecamatan, then of all of them
    one = await execute(
        client, QUERY_CHILDREN_BOARDS, {"region": KECAMATAN, "first": 1}
    )
    one_queries = list(sql_log.statements)
    sql_log.statements.clear()
    every = await execute(
        client, QUERY_CHILDREN_BOARDS, {"region": KECAMATAN, "first": 100}
    )
    every_queries = list(sql_log.statements)
    # then: the region, its children, the event position (one statement), the
    # boards' pages (one statement), the announcements on them
    children = every["data"]["region"]["children"]["edges"]
    assert len(one["data"]["region"]["children"]["edges"]) == 1
    assert len(children) == 9
    boards = {e["node"]["code"]: e["node"]["announcements"] for e in children}
    assert [e["node"]["title"] for e in boards[HOME_DESA]["edges"]] == [
        "Banjir",
        "Posyandu Suka Bangun",
    ]
    assert {code: board["totalCount"] for code, board in boards.items()} == {
        code: 2 if code == HOME_DESA else 1 for code in boards
    }
    assert len(one_queries) == 5, one_queries
    assert len(every_queries) == 5, every_queries


@pytest.mark.parametrize("first", [0, 2])
async def test_a_region_board_fetches_a_page_and_one_row_more_whatever_its_history(
    client: httpx.AsyncClient,
    cast: Cast,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    first: int,
) -> None:
    # given: 30 announcements for the kabupaten, seen by every desa below it
    newest_first = await publish_history(clock, 30)
    shown = newest_first[:first]
    end = await models.Announcement.get(title=shown[-1]) if shown else None
    statements = record_statements(monkeypatch)
    # when: a page of every desa's board of the kecamatan
    body = await execute(
        client, QUERY_DESA_BOARDS, {"region": KECAMATAN, "first": first}
    )
    # then: each board's newest, its whole count, and more to come
    desa = body["data"]["region"]["desa"]
    assert len(desa) > 1
    assert {d["code"]: d["announcements"] for d in desa} == {
        d["code"]: {
            "totalCount": 31 if d["code"] == HOME_DESA else 30,
            "pageInfo": {
                "hasNextPage": True,
                "endCursor": announcement_cursor(end) if end else None,
            },
            "edges": [{"node": {"title": title}} for title in shown],
        }
        for d in desa
    }
    # and: one statement, which fetched first + 1 ids and the total of each board
    assert len(statements) == 1
    [fetched] = statements
    boards = range(len(desa))
    assert {board: len(ids) for board, ids in fetched.shown.items()} == {
        board: first + 1 for board in boards
    }
    assert sorted(fetched.totals.values()) == [30] * (len(desa) - 1) + [31]


async def test_boards_read_in_several_statements_give_the_same_pages(
    client: httpx.AsyncClient,
    cast: Cast,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: 30 announcements for the kabupaten, and two pages of every desa's
    # board read with all boards in one statement
    await publish_history(clock, 30)
    whole = await two_pages(client)
    # when: the same pages with three boards a statement
    monkeypatch.setattr(boards_module, "BOARDS_PER_STATEMENT", 3)
    statements = record_statements(monkeypatch)
    batched = await two_pages(client)
    # then: the same pages, from statements of at most three boards, 3 ids each
    assert batched == whole
    desa = len(whole[0]["data"]["region"]["desa"])
    sizes = [min(3, desa - start) for start in range(0, desa, 3)]
    assert len(sizes) > 1
    assert [
        sorted(len(ids) for ids in fetched.shown.values()) for fetched in statements
    ] == [[3] * size for size in sizes] * 2


async def test_boards_read_together_at_their_own_times_are_the_board_query_pages(
    cast: Cast, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: within two seconds, two EMERGENCY start and one ends, all ahead of
    # the rest in board order; one announcement targets three regions of a board
    start, second = clock.now(), timedelta(seconds=1)
    emergency = models.AnnouncementPriority.EMERGENCY
    for draft in (
        kabar("Mulai", KABUPATEN, priority=emergency, valid_from=start + second / 2),
        kabar("Nanti", KABUPATEN, priority=emergency, valid_from=start + second * 1.5),
        kabar("Berakhir", KABUPATEN, priority=emergency, valid_until=start + second),
        kabar("Rapat", KABUPATEN, priority=models.AnnouncementPriority.IMPORTANT),
        kabar("Kerja bakti", KABUPATEN, KECAMATAN, HOME_DESA),
        kabar("Tetangga", SIBLING_DESA),
    ):
        await announcements.publish(clock, nobody_listens, ROOT, draft)
    rapat = page_key(await models.Announcement.get(title="Rapat"))
    # when: boards of three regions at three times, whole or active, in pages
    # of 1 and 3 from the start and of 1 after Rapat, all in one batch
    keys = [
        BoardKey(region, active, start + second * n, after, limit)
        for region in (HOME_DESA, SIBLING_DESA, KECAMATAN)
        for n in range(3)
        for active in (True, False)
        for after, limit in ((None, 1), (None, 3), (rapat, 1))
    ]
    statements = record_statements(monkeypatch)
    pages = await boards_by_keys(keys)
    # then: one statement, and each page the board query's at its key's time
    assert len(statements) == 1
    for key in keys:
        where = AnnouncementFilter(key.region, active_only=key.active_only)
        expected = await board_page(where, key.now, key.after, key.limit)
        assert pages[key] == expected, key
