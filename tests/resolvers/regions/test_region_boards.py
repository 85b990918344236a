"""`Region.announcements`: the board query's pages, read for many regions at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from kimgraph.clock import FixedClock
from kimgraph.cursors import CursorKind, encode_cursor, encode_id
from tests.conftest import QueryLog, execute
from tests.people import HOME_DESA, Cast

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


@pytest.mark.parametrize("active", [True, False])
async def test_a_region_pages_its_board_as_the_board_query_does(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock, active: bool
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
        while True:
            variables = {"region": HOME_DESA, "active": active, "first": 2}
            body = await execute(client, query, variables | {"after": after})
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
        assert shown == [
            "Banjir",
            "Rapat",
            "Nanti",
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
    # then: the region, its children, the event position (two), the boards
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
