"""A connection's outbox: written at once when it can be, queued when not, bounded."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from kimgraph.live.protocol import PING_FRAME, Pinger
from kimgraph.live.sharing import Outbox


class Socket:
    """A socket whose sends suspend while it is paused, like uvicorn's."""

    def __init__(self) -> None:
        self.written: list[str] = []
        self.closed: list[tuple[int, str]] = []
        self.writable = asyncio.Event()
        self.writable.set()
        self.gone = False

    async def send_text(self, frame: str) -> None:
        await self.writable.wait()
        if self.gone:
            raise OSError("client disconnected")
        self.written.append(frame)

    async def close(self, code: int, reason: str) -> None:
        await self.writable.wait()
        self.closed.append((code, reason))


async def until(condition: Callable[[], bool], deadline: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline
    while not condition():
        assert loop.time() < give_up, "condition not met in time"
        await asyncio.sleep(0.001)


async def test_a_writable_socket_gets_the_frame_before_put_returns() -> None:
    socket = Socket()
    outbox = Outbox(socket, size=4)
    outbox.put("a")
    outbox.put("b")
    assert socket.written == ["a", "b"]
    assert outbox.waiting == 0
    assert len(asyncio.all_tasks()) == 1  # this test's own: no writer was needed


async def test_a_paused_socket_gets_everything_in_order_once_it_drains() -> None:
    socket = Socket()
    outbox = Outbox(socket, size=4)
    socket.writable.clear()
    for frame in ("a", "b", "c", "d", "e"):
        outbox.put(frame)
    assert socket.written == []
    assert outbox.waiting == 4  # "a" is in the suspended send
    socket.writable.set()
    await until(lambda: len(socket.written) == 5)
    assert socket.written == ["a", "b", "c", "d", "e"]
    await until(lambda: len(asyncio.all_tasks()) == 1)
    outbox.put("f")
    assert socket.written[-1] == "f"
    assert socket.closed == []


async def test_falling_behind_past_the_bound_closes_with_1013_and_drops_the_rest() -> (
    None
):
    socket = Socket()
    outbox = Outbox(socket, size=4)
    socket.writable.clear()
    for frame in ("a", "b", "c", "d", "e", "f"):
        outbox.put(frame)
    assert outbox.overflowed
    assert outbox.waiting == 0
    socket.writable.set()
    await until(lambda: socket.closed == [(1013, "slow consumer")])
    outbox.put("g")
    await asyncio.sleep(0.01)
    assert socket.written == []


async def test_the_1013_close_is_waited_for_when_the_connection_ends() -> None:
    socket = Socket()
    outbox = Outbox(socket, size=4)
    socket.writable.clear()
    for frame in ("a", "b", "c", "d", "e", "f"):
        outbox.put(frame)
    # when: the connection's handler ends while the close waits for the transport
    ending = asyncio.create_task(outbox.close())
    for _ in range(10):
        await asyncio.sleep(0)
    assert not ending.done()
    # then: once the transport drains, the 1013 goes out and only then it ends
    socket.writable.set()
    await asyncio.wait_for(ending, 10)
    assert socket.closed == [(1013, "slow consumer")]


async def test_a_socket_that_is_gone_is_not_written_again() -> None:
    socket = Socket()
    outbox = Outbox(socket, size=4)
    socket.gone = True
    outbox.put("a")
    assert outbox.closed
    socket.gone = False
    outbox.put("b")
    assert socket.written == []


async def test_closing_cancels_a_suspended_send() -> None:
    socket = Socket()
    outbox = Outbox(socket, size=4)
    socket.writable.clear()
    outbox.put("a")
    await outbox.close()
    socket.writable.set()
    await asyncio.sleep(0.01)
    assert socket.written == []
    assert len(asyncio.all_tasks()) == 1


async def test_the_pinger_spreads_sockets_over_its_interval() -> None:
    sockets = [Socket() for _ in range(90)]
    outboxes = [Outbox(socket, size=4) for socket in sockets]
    pinger = Pinger(interval=60.0)  # a tick every 2 s
    for outbox in outboxes:
        pinger.add(outbox)
    pinger.discard(outboxes[0])
    assert len(pinger) == 89
    try:
        await until(lambda: any(socket.written for socket in sockets))
        pinged = [i for i, socket in enumerate(sockets) if socket.written]
        # One slot of 30: every 30th socket, the first of which was discarded.
        assert pinged == [30, 60]
        assert sockets[30].written == [PING_FRAME]
    finally:
        await pinger.close()
