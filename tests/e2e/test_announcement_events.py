"""announcementEvents against a real server with a real WebSocket client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.e2e.live import (
    DEADLINE_S,
    MUTATION_WITHDRAW,
    Live,
    Subscriber,
    live_server,
    utc_in,
)
from tests.e2e.server import Server

DESA = "61.04.16.2006"  # Suka Bangun, Kecamatan Delta Pawan
SIBLING_DESA = "61.04.16.2007"  # Kali Nilam, same kecamatan
KECAMATAN = "61.04.16"
KABUPATEN = "61.04"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def deployed(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Server, str, str]]:
    with live_server(str(request.param), tmp_path) as deployment:
        yield deployment


async def test_a_desa_sees_its_own_kecamatan_and_kabupaten_not_a_sibling(
    live: Live,
) -> None:
    # given
    board = await Subscriber.open(live.server, DESA, after=await live.cursor(DESA))
    # when
    await live.publish("Untuk desa tetangga", [SIBLING_DESA])
    await live.publish("Untuk desa ini", [DESA])
    await live.publish("Untuk kecamatan", [KECAMATAN])
    await live.publish("Untuk tetangga dan kabupaten", [SIBLING_DESA, KABUPATEN])
    # then
    events = await board.events(3)
    assert [(e["kind"], e["announcement"]["title"]) for e in events] == [
        ("PUBLISHED", "Untuk desa ini"),
        ("PUBLISHED", "Untuk kecamatan"),
        ("PUBLISHED", "Untuk tetangga dan kabupaten"),
    ]
    assert events[2]["announcement"]["targets"] == [
        {"code": SIBLING_DESA},
        {"code": KABUPATEN},
    ]
    assert await board.nothing_within(1.0)
    await board.close()


async def test_withdrawal_is_pushed_as_withdrawn(live: Live) -> None:
    # given
    board = await Subscriber.open(live.server, DESA, after=await live.cursor(DESA))
    announcement_id = await live.publish("Rapat desa", [DESA])
    published = await board.event()
    # when
    await live.graphql(
        MUTATION_WITHDRAW, {"id": announcement_id, "reason": "Rapat dibatalkan"}
    )
    # then
    withdrawn = await board.event()
    assert (published["kind"], withdrawn["kind"]) == ("PUBLISHED", "WITHDRAWN")
    assert withdrawn["announcement"] == {
        **published["announcement"],
        "status": "WITHDRAWN",
    }
    await board.close()


async def test_scheduled_and_expiring_announcements_fire_without_a_mutation(
    live: Live,
) -> None:
    # given
    board = await Subscriber.open(live.server, DESA, after=await live.cursor(DESA))
    await live.publish("Berlaku sebentar", [DESA], validUntil=utc_in(2))
    await live.publish("Terjadwal", [KECAMATAN], validFrom=utc_in(3))
    # when: time passes; nobody calls anything
    events = await board.events(3)
    # then
    assert [(e["kind"], e["announcement"]["title"]) for e in events] == [
        ("PUBLISHED", "Berlaku sebentar"),
        ("EXPIRED", "Berlaku sebentar"),
        ("PUBLISHED", "Terjadwal"),
    ]
    assert events[1]["announcement"]["status"] == "EXPIRED"
    assert events[2]["announcement"]["status"] == "ACTIVE"
    await board.close()


async def test_a_resubscriber_gets_exactly_what_it_missed_in_order(live: Live) -> None:
    # given: a board that saw one event, then lost its connection
    board = await Subscriber.open(live.server, DESA, after=await live.cursor(DESA))
    await live.publish("Sebelum putus", [DESA])
    last = await board.event()
    await board.close()
    # when: 50 are published while it is away
    titles = [f"Pengumuman {n:02d}" for n in range(50)]
    for title in titles:
        await live.publish(title, [DESA])
    board = await Subscriber.open(live.server, DESA, after=last["cursor"])
    # then
    missed = await board.events(50)
    assert [e["announcement"]["title"] for e in missed] == titles
    assert len({e["cursor"] for e in missed}) == 50
    assert await board.nothing_within(1.0)
    await board.close()


QUERY_BOARD_PAGE = """
query ($region: String!, $after: String) {
  announcements(region: $region, first: 100, after: $after) {
    eventCursor edges { node { title } } pageInfo { hasNextPage endCursor }
  }
}
"""


async def load_whole_board(live: Live) -> tuple[set[str], str]:
    """Every title a desa shows, page by page, and the first page's eventCursor."""
    seen: set[str] = set()
    after: str | None = None
    cursor: str | None = None
    for _ in range(100):
        data = await live.graphql(QUERY_BOARD_PAGE, {"region": DESA, "after": after})
        page = data["announcements"]
        cursor = cursor or page["eventCursor"]
        seen |= {edge["node"]["title"] for edge in page["edges"]}
        if not page["pageInfo"]["hasNextPage"]:
            assert cursor is not None
            return seen, cursor
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("more than 100 pages")


async def test_nothing_is_missed_or_doubled_while_publishing_continues(
    live: Live,
) -> None:
    # given: publishers that never pause
    published: list[str] = []
    stop = asyncio.Event()
    reached = {10: asyncio.Event(), 60: asyncio.Event()}

    async def publisher(name: str) -> None:
        n = 0
        while not stop.is_set():
            title = f"{name}-{n}"
            await live.publish(title, [KECAMATAN])
            published.append(title)
            for count, event in reached.items():
                if len(published) >= count:
                    event.set()
            n += 1

    tasks = [asyncio.create_task(publisher(f"p{i}")) for i in range(3)]
    await asyncio.wait_for(reached[10].wait(), DEADLINE_S)
    # when: boards load, then subscribe from the eventCursor of their load
    boards = []
    for _ in range(3):
        seen, cursor = await load_whole_board(live)
        boards.append((seen, await Subscriber.open(live.server, DESA, after=cursor)))
        await asyncio.sleep(0.2)
    await asyncio.wait_for(reached[60].wait(), DEADLINE_S * 4)
    stop.set()
    await asyncio.gather(*tasks)
    # then: each board's load plus its events is everything, each event once
    for seen, board in boards:
        titles: list[str] = []
        while len(seen | set(titles)) < len(published):
            titles.append((await board.event())["announcement"]["title"])
        assert len(titles) == len(set(titles)), "an event arrived twice"
        assert seen | set(titles) == set(published)
        assert await board.nothing_within(0.5)
        await board.close()


async def test_legacy_graphql_ws_clients_are_served(live: Live) -> None:
    # given
    async with connect(
        live.server.ws_url,
        subprotocols=["graphql-ws"],  # type: ignore[list-item]
        proxy=None,
        open_timeout=DEADLINE_S,
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv(decode=True)) == {"type": "connection_ack"}
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "start",
                    "payload": {
                        "query": "subscription ($after: String) { announcementEvents"
                        f'(region: "{DESA}", after: $after) '
                        "{ kind announcement { title } } }",
                        "variables": {"after": await live.cursor(DESA)},
                    },
                }
            )
        )
        # when
        await live.publish("Lewat protokol lama", [DESA])
        # then
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_S))
            if message["type"] != "ka":
                break
    assert message == {
        "type": "data",
        "id": "1",
        "payload": {
            "data": {
                "announcementEvents": {
                    "kind": "PUBLISHED",
                    "announcement": {"title": "Lewat protokol lama"},
                }
            }
        },
    }


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"region": "61.04.99"}, "NOT_FOUND"),
        ({"region": "61.4"}, "INVALID_REGION_CODE"),
        ({"region": DESA, "after": "bukan-kursor"}, "INVALID_CURSOR"),
    ],
)
async def test_bad_subscription_arguments_are_errors(
    live: Live, variables: dict[str, str], code: str
) -> None:
    async with connect(
        live.server.ws_url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        proxy=None,
        open_timeout=DEADLINE_S,
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        await ws.recv()
        await ws.send(
            json.dumps(
                {
                    "id": "s",
                    "type": "subscribe",
                    "payload": {
                        "query": "subscription ($region: String!, $after: String) "
                        "{ announcementEvents(region: $region, after: $after) "
                        "{ kind } }",
                        "variables": variables,
                    },
                }
            )
        )
        message = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_S))
    errors = (
        message["payload"]["errors"]
        if message["type"] == "next"
        else message["payload"]
    )
    assert [e["extensions"]["code"] for e in errors] == [code], message
