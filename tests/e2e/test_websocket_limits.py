"""WebSocket limits: slow consumers are closed with 1013, pings flow, nothing lost."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from tests.e2e.live import DEADLINE_S, Live, Subscriber, live_server
from tests.e2e.server import Server

DESA = "61.04.16.2006"
BODY = "Air sungai naik. " * 580  # about 10 KB, near the 10,000-character limit
# The body ten times over: 100 KB frames fill the kernel's buffers quickly, well
# before uvicorn's keepalive (35 s without a pong) would close the reader itself.
SUBSCRIPTION_HEAVY = """
subscription ($region: String!, $after: String, $below: Boolean) {
  announcementEvents(region: $region, after: $after, includeDescendants: $below) {
    cursor kind announcement {
      title b0: body b1: body b2: body b3: body b4: body
      b5: body b6: body b7: body b8: body b9: body
    }
  }
}
"""


def rss_kib(server: Server) -> int:
    """The server process's resident memory."""
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1])


async def read_titles(subscriber: Subscriber, titles: list[str]) -> None:
    """Append every event's title until the connection closes."""
    while True:
        titles.append((await subscriber.event())["announcement"]["title"])


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[tuple[Server, str, str]]:
    env = {"KIMGRAPH_SUBSCRIBER_QUEUE_SIZE": "32", "KIMGRAPH_WS_PING_SECONDS": "1"}
    with live_server("sqlite", tmp_path, env) as deployment:
        yield deployment


async def test_a_reader_that_stops_is_closed_with_1013_and_memory_stays_bounded(
    live: Live,
) -> None:
    # given: a board that reads one event, then stops reading (its client buffers
    # 4 messages and 8 KB, so TCP pushes back on the server)
    stalled = await Subscriber.open(
        live.server,
        DESA,
        after=await live.cursor(DESA),
        receive_buffer=8192,
        query=SUBSCRIPTION_HEAVY,
    )
    await live.publish("Pertama", [DESA], body=BODY)
    first = await stalled.event()
    await live.publish("Pemanasan", [DESA], body=BODY)
    before = rss_kib(live.server)
    # when: 120 more frames of 100 KB (12 MB, more than the kernel buffers)
    titles = [f"Banjir {n:03d}" for n in range(120)]
    for title in titles:
        await live.publish(title, [DESA], body=BODY)
    after = rss_kib(live.server)
    # then: the server did not keep 12 MB for the stalled reader
    assert after - before < 12 * 1024, (before, after)
    # and when the reader wakes up it finds the close code, after what was sent
    received: list[str] = []
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(read_titles(stalled, received), DEADLINE_S * 2)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1013, "slow consumer")
    assert len(received) < 121
    metrics = (await live.http.get("/metrics")).text
    assert "\nkimgraph_slow_consumer_closes_total 1.0\n" in metrics
    # and resuming with its last cursor loses nothing
    resumed = await Subscriber.open(live.server, DESA, after=first["cursor"])
    rest = [(await resumed.event())["announcement"]["title"] for _ in range(121)]
    assert rest == ["Pemanasan", *titles]
    await resumed.close()


async def test_the_server_pings_idle_sockets(live: Live) -> None:
    # given: pings every second (KIMGRAPH_WS_PING_SECONDS=1)
    board = await Subscriber.open(live.server, DESA, after=await live.cursor(DESA))
    # when: nothing happens for a while
    assert await board.nothing_within(3.5)
    # then
    assert board.pings >= 2
    await board.close()


async def test_at_most_100_operations_per_connection(live: Live) -> None:
    # given
    board = await Subscriber.open(live.server, DESA, after=await live.cursor(DESA))
    query = f'subscription {{ announcementEvents(region: "{DESA}") {{ kind }} }}'
    # when: 100 more subscriptions on the same socket
    for n in range(100):
        await board.ws.send(
            json.dumps(
                {"id": f"extra-{n}", "type": "subscribe", "payload": {"query": query}}
            )
        )
    # then: the 101st operation is refused
    message = await asyncio.wait_for(board.message(), DEADLINE_S)
    assert message == {
        "id": "extra-99",
        "type": "error",
        "payload": [{"message": "Subscription limit reached"}],
    }
    await board.close()


async def test_a_stopping_server_tells_its_boards_to_reconnect_with_1012(
    live: Live,
) -> None:
    # given: a board following its desa
    board = await Subscriber.open(live.server, DESA, after=await live.cursor(DESA))
    # when: the server is asked to stop (a deploy, a restart)
    live.server.process.send_signal(signal.SIGTERM)
    # then: the board is told "service restart" and the server shuts down cleanly
    # (uvicorn re-raises the signal once it is done, hence -SIGTERM)
    await asyncio.wait_for(board.ws.wait_closed(), DEADLINE_S)
    assert board.ws.close_code == 1012
    exit_code = await asyncio.to_thread(live.server.process.wait, DEADLINE_S)
    assert exit_code == -signal.SIGTERM
    log = live.server.output()
    assert "Application shutdown complete." in log
    assert "Traceback" not in log


async def test_a_message_over_the_limit_closes_only_its_socket_with_1009(
    live: Live,
) -> None:
    # given: two boards; KIMGRAPH_WS_MAX_BYTES keeps its default of 1 MiB
    board = await Subscriber.open(live.server, DESA, after=await live.cursor(DESA))
    careless = await Subscriber.open(live.server, DESA, after=await live.cursor(DESA))
    # when: one sends a message one byte over the limit (uvicorn's own is 16 MiB)
    message = json.dumps({"id": "big", "type": "subscribe", "payload": {"query": ""}})
    padding = 1_048_576 + 1 - len(message)
    await careless.ws.send(
        message.replace('"query": ""', f'"query": "{" " * padding}"')
    )
    # then: that socket is closed as "message too big", the other keeps its events
    await asyncio.wait_for(careless.ws.wait_closed(), DEADLINE_S)
    assert careless.ws.close_code == 1009
    await live.publish("Setelah pesan besar", [DESA])
    assert (await board.event())["announcement"]["title"] == "Setelah pesan besar"
    await board.close()
