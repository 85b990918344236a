"""Board presence: the shared rows, the sockets a process counts, `boards(region)`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.websockets import WebSocketState

from kimgraph import models, presence
from kimgraph.clock import FixedClock
from kimgraph.presence.sockets import board_code
from tests.conftest import execute
from tests.people import HOME_DESA, OTHER_DESA, Cast

SIBLING_DESA = "61.04.16.2007"  # Kali Nilam
FAR_DESA = "61.04.16.2008"  # Paya Kumang
T0 = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
STALE = presence.stale_after(10.0)  # the default heartbeat: 30 s
QUERY_BOARDS = """
query ($region: String!, $first: Int, $after: String) {
  boards(region: $region, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { region { code } online since lastSeenAt offlineOverADay } }
  }
}
"""


async def rows() -> list[tuple[str, datetime, datetime]]:
    found = await models.BoardPresence.all().order_by("code")
    return [(r.code, r.since, r.last_seen) for r in found]


async def test_a_desa_stays_since_its_first_beat_while_beats_keep_coming(
    ketapang: str,
) -> None:
    # given: beats 10 s apart, one of them from a process with a slower clock
    await presence.record([HOME_DESA], T0, T0 - STALE)
    await presence.record([HOME_DESA], T0 + timedelta(seconds=10), T0 - STALE)
    await presence.record([HOME_DESA], T0 + timedelta(seconds=5), T0 - STALE)
    # then: one row, since the first beat, last seen at the newest
    assert await rows() == [(HOME_DESA, T0, T0 + timedelta(seconds=10))]


async def test_a_desa_silent_past_the_stale_time_starts_a_new_run(
    ketapang: str,
) -> None:
    # given
    await presence.record([HOME_DESA], T0, T0 - STALE)
    later = T0 + timedelta(minutes=5)
    # when
    await presence.record([HOME_DESA, OTHER_DESA], later, later - STALE)
    # then
    assert await rows() == [(HOME_DESA, later, later), (OTHER_DESA, later, later)]


async def test_a_code_naming_no_region_is_not_recorded(ketapang: str) -> None:
    await presence.record(["61.04.16.2999", HOME_DESA], T0, T0 - STALE)
    assert await rows() == [(HOME_DESA, T0, T0)]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"board": HOME_DESA}, HOME_DESA),
        ({"board": "61.72.01.1001"}, "61.72.01.1001"),  # a kelurahan
        ({"board": "61.04.16"}, None),  # a kecamatan shows no board of its own
        ({"board": "61.04.16.9"}, None),
        ({"board": 6104162006}, None),
        ({"authorization": "Bearer x"}, None),
        (None, None),
    ],
)
def test_only_a_desa_or_kelurahan_code_names_a_board(
    payload: dict[str, Any] | None, code: str | None
) -> None:
    assert board_code(payload) == code


class Socket:
    """A stand-in for a WebSocket: only its two states are read."""

    def __init__(self) -> None:
        self.client_state = WebSocketState.CONNECTED
        self.application_state = WebSocketState.CONNECTED

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.application_state = WebSocketState.DISCONNECTED


def test_a_closed_socket_stops_counting_without_a_hook() -> None:
    # given
    sockets = presence.BoardSockets()
    first, second, other = Socket(), Socket(), Socket()
    sockets.add(HOME_DESA, first)
    sockets.add(HOME_DESA, second)
    sockets.add(OTHER_DESA, other)
    # when
    first.client_state = WebSocketState.DISCONNECTED
    other.client_state = WebSocketState.DISCONNECTED
    # then
    assert sockets.codes() == [HOME_DESA]
    second.application_state = WebSocketState.DISCONNECTED
    assert sockets.codes() == []


async def test_the_heartbeat_records_the_open_sockets_once_a_beat(
    ketapang: str,
) -> None:
    # given
    clock = FixedClock(T0)
    sockets = presence.BoardSockets()
    socket = Socket()
    sockets.add(HOME_DESA, socket)
    beat = presence.Heartbeat(clock, sockets, 10.0)
    # when
    await beat.beat()
    clock.advance(timedelta(seconds=10))
    await beat.beat()
    socket.client_state = WebSocketState.DISCONNECTED
    clock.advance(timedelta(seconds=10))
    await beat.beat()
    # then
    assert await rows() == [(HOME_DESA, T0, T0 + timedelta(seconds=10))]


def node(
    code: str, online: bool, since: datetime, seen: datetime, flagged: bool
) -> dict[str, Any]:
    return {
        "node": {
            "region": {"code": code},
            "online": online,
            "since": since.isoformat(),
            "lastSeenAt": seen.isoformat(),
            "offlineOverADay": flagged,
        }
    }


async def test_boards_shows_online_offline_and_a_day_offline_by_the_clock(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given, by the injected clock: Suka Bangun beat 30 s ago (still online),
    # Kali Nilam 31 s ago, Padang a day ago, Suka Bangun's sibling a day and 1 s
    now, second, day = clock.now(), timedelta(seconds=1), timedelta(days=1)
    beats = {
        HOME_DESA: now - STALE,
        SIBLING_DESA: now - STALE - second,
        OTHER_DESA: now - day,
        FAR_DESA: now - day - second,
    }
    for code, at in beats.items():
        await presence.record([code], at, at - STALE)
    # when
    body = await execute(
        client, QUERY_BOARDS, {"region": "61.04"}, cast.headers["admin"]
    )
    # then
    assert body["data"]["boards"]["edges"] == [
        node(HOME_DESA, True, beats[HOME_DESA], beats[HOME_DESA], False),
        node(SIBLING_DESA, False, beats[SIBLING_DESA], beats[SIBLING_DESA], False),
        node(FAR_DESA, False, beats[FAR_DESA], beats[FAR_DESA], True),
        node(OTHER_DESA, False, beats[OTHER_DESA], beats[OTHER_DESA], False),
    ]


async def test_boards_pages_in_code_order(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given
    now = clock.now()
    await presence.record([HOME_DESA, OTHER_DESA], now, now - STALE)
    admin = cast.headers["admin"]
    # when
    first = await execute(client, QUERY_BOARDS, {"region": "61.04", "first": 1}, admin)
    page = first["data"]["boards"]
    rest = await execute(
        client,
        QUERY_BOARDS,
        {"region": "61.04", "after": page["pageInfo"]["endCursor"]},
        admin,
    )
    # then
    assert (page["totalCount"], page["pageInfo"]["hasNextPage"]) == (2, True)
    assert [e["node"]["region"]["code"] for e in page["edges"]] == [HOME_DESA]
    assert rest["data"]["boards"]["edges"] == [node(OTHER_DESA, True, now, now, False)]
    assert rest["data"]["boards"]["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize(
    ("principal", "code", "message"),
    [
        ("anonymous", "UNAUTHENTICATED", "sign in to read board presence"),
        ("partner", "FORBIDDEN", "only an ADMIN or an OFFICER may read board presence"),
        (
            "kim_home",
            "FORBIDDEN",
            "only an ADMIN or an OFFICER may read board presence",
        ),
        (
            "officer_out_of_scope",
            "FORBIDDEN",
            "region 61.04.16 lies outside your region 61.04.18",
        ),
        ("officer_in_scope", None, None),
        ("admin", None, None),
    ],
)
async def test_only_staff_over_the_region_see_its_boards(
    client: httpx.AsyncClient,
    cast: Cast,
    clock: FixedClock,
    principal: str,
    code: str | None,
    message: str | None,
) -> None:
    # given: a board in each kecamatan
    now = clock.now()
    await presence.record([HOME_DESA, OTHER_DESA], now, now - STALE)
    # when
    body = await execute(
        client, QUERY_BOARDS, {"region": "61.04.16"}, cast.headers[principal]
    )
    # then: only Delta Pawan's, to whoever may ask
    if code is None:
        assert body["data"]["boards"]["edges"] == [
            node(HOME_DESA, True, now, now, False)
        ]
        return
    assert body["data"] is None
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (message, code)
    ]
