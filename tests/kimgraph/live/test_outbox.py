"""A connection's outbox: written at once when it can be, queued when not, bounded."""

from __future__ import annotations

import asyncio

from kimgraph.live.outbox import Outbox
from kimgraph.live.slow_consumers import SlowConsumers
from tests.kimgraph.live.sockets import Socket, until


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


async def test_an_overflow_closes_with_1013_exactly_once_and_writes_nothing_more() -> (
    None
):
    # given: a paused socket with "a" in a suspended send and four frames waiting
    socket = Socket()
    outbox = Outbox(socket, size=4)
    closes_before = SlowConsumers.closed
    socket.writable.clear()
    for frame in ("a", "b", "c", "d", "e"):
        outbox.put(frame)
    assert outbox.waiting == 4
    # when: a fifth frame has to wait, and more keep coming
    for frame in ("f", "g", "h"):
        outbox.put(frame)
    # then: the queue is dropped at once and the socket closed with 1013, once
    assert outbox.overflowed
    assert outbox.waiting == 0
    socket.writable.set()
    await until(lambda: socket.closed == [(1013, "slow consumer")])
    outbox.put("i")
    await outbox.close()
    await asyncio.sleep(0.01)
    assert socket.closed == [(1013, "slow consumer")]
    assert socket.written == []
    assert SlowConsumers.closed == closes_before + 1
    assert len(asyncio.all_tasks()) == 1


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
