"""The Redis bus against a real Redis, through a proxy a test can cut and freeze."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from kimgraph.events.redis_bus import RECONNECTED, RedisBus
from tests.e2e.server import free_port
from tests.services import redis_url

DEADLINE_S = 30.0
# Short enough that a frozen connection is noticed within seconds in a test.
HEALTH_S = 1.0


class Proxy:
    """A TCP proxy to Redis on a fixed local port: cut, restored or frozen at will."""

    def __init__(self, target: str) -> None:
        host, port = target.removeprefix("redis://").split("/")[0].split(":")
        self.target = (host, int(port))
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._frozen: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    def freeze(self) -> None:
        """Open connections go half-open: their bytes vanish and nothing errors."""
        self._frozen |= self._pumps

    async def cut(self) -> None:
        """Refuse new connections and close the open ones, as a dead Redis would."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for pump in self._pumps:
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        for writer in self._writers:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        self._writers.clear()

    async def _accept(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.add(up_writer)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            pump = asyncio.create_task(self._pump(source, sink))
            self._pumps.add(pump)
            pump.add_done_callback(self._pumps.discard)

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter
    ) -> None:
        try:
            while data := await source.read(65536):
                if asyncio.current_task() not in self._frozen:
                    sink.write(data)
                    await sink.drain()
        except OSError:
            pass  # the other side went away: close this side too
        finally:
            sink.close()


class Doorbells:
    """What one listen() yields, gathered by a task so a test can wait for it."""

    def __init__(self, bus: RedisBus) -> None:
        self.rung: asyncio.Queue[int] = asyncio.Queue()
        self.task = asyncio.create_task(self._gather(bus))

    async def _gather(self, bus: RedisBus) -> None:
        async for position in bus.listen():
            self.rung.put_nowait(position)

    async def next(self) -> int:
        return await asyncio.wait_for(self.rung.get(), DEADLINE_S)

    async def next_other_than(self, ignored: int) -> int:
        while (position := await self.next()) == ignored:
            pass
        return position


async def ended(*listeners: Doorbells) -> None:
    """Wait until each listener's listen() has returned (the bus closed)."""
    await asyncio.wait_for(
        asyncio.gather(*(listener.task for listener in listeners)), DEADLINE_S
    )


async def eventually(condition: Callable[[], object]) -> None:
    """Return once condition() holds; fail after the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while not condition():
        assert loop.time() < deadline, "condition not met before the deadline"
        await asyncio.sleep(0.05)


async def eventually_async(check: Callable[[], Awaitable[bool]]) -> None:
    """Like eventually(), for an asynchronous check."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while not await check():
        assert loop.time() < deadline, "condition not met before the deadline"
        await asyncio.sleep(0.05)


@pytest.fixture
def redis() -> str:
    return redis_url()


@pytest.fixture
def channel() -> str:
    """A channel of this test's own, so concurrent runs never hear each other."""
    return f"kimgraph-test:{uuid.uuid4().hex}"


@asynccontextmanager
async def running(bus: RedisBus) -> AsyncIterator[RedisBus]:
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()


@asynccontextmanager
async def proxied(target: str) -> AsyncIterator[Proxy]:
    proxy = Proxy(target)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.cut()


def fast_bus(url: str, channel: str) -> RedisBus:
    return RedisBus(
        url, channel, health_seconds=HEALTH_S, backoff_base=0.05, backoff_cap=0.5
    )


async def test_a_listener_hears_what_is_published(redis: str, channel: str) -> None:
    async with running(RedisBus(redis, channel)) as bus:
        # given: following (the first doorbell says so)
        doorbells = Doorbells(bus)
        assert await doorbells.next() == RECONNECTED
        # when
        await bus.publish(42)
        # then
        assert await doorbells.next() == 42
    await ended(doorbells)


async def test_two_processes_hear_each_others_doorbells(
    redis: str, channel: str
) -> None:
    async with (
        running(RedisBus(redis, channel)) as first,
        running(RedisBus(redis, channel)) as second,
    ):
        # given
        heard_by_first, heard_by_second = Doorbells(first), Doorbells(second)
        assert await heard_by_first.next() == RECONNECTED
        assert await heard_by_second.next() == RECONNECTED
        # when / then
        await first.publish(7)
        assert await heard_by_second.next() == 7
        assert await heard_by_first.next() == 7
        await second.publish(8)
        assert await heard_by_first.next() == 8
        assert await heard_by_second.next() == 8
    await ended(heard_by_first, heard_by_second)


async def test_a_listener_rings_after_redis_comes_back_then_hears_live_ones(
    redis: str, channel: str
) -> None:
    async with (
        proxied(redis) as proxy,
        running(fast_bus(proxy.url, channel)) as bus,
        running(RedisBus(redis, channel)) as other_process,
    ):
        # given: following through the proxy
        doorbells = Doorbells(bus)
        assert await doorbells.next() == RECONNECTED
        assert await bus.ping() is True
        # when: Redis goes away
        await proxy.cut()
        await eventually(lambda: not bus.connected)
        # then: publishing still returns, and ping tells the truth
        await bus.publish(5)
        assert await bus.ping() is False
        # when: Redis comes back, and a doorbell is missed meanwhile
        await other_process.publish(6)
        await proxy.start()
        # then: a doorbell after reconnecting (read the log), then live ones
        assert await doorbells.next() == RECONNECTED
        await eventually_async(bus.ping)
        await other_process.publish(9)
        assert await doorbells.next() == 9
    await ended(doorbells)


async def test_a_silent_half_open_connection_is_dropped_and_replaced(
    redis: str, channel: str
) -> None:
    async with (
        proxied(redis) as proxy,
        running(fast_bus(proxy.url, channel)) as bus,
        running(RedisBus(redis, channel)) as other_process,
    ):
        # given
        doorbells = Doorbells(bus)
        assert await doorbells.next() == RECONNECTED
        # when: the connection stops carrying bytes, but does not close
        proxy.freeze()
        # then: given up on, replaced, a doorbell for the gap, then live ones
        assert await doorbells.next() == RECONNECTED
        await other_process.publish(11)
        assert await doorbells.next_other_than(RECONNECTED) == 11
    await ended(doorbells)


async def test_publishing_while_redis_is_unreachable_returns_and_warns_once(
    channel: str, caplog: pytest.LogCaptureFixture
) -> None:
    # given: nothing listens on this port
    url = f"redis://127.0.0.1:{free_port()}/0"
    async with running(fast_bus(url, channel)) as bus:
        # when
        with caplog.at_level(logging.WARNING, logger="kimgraph.events"):
            for position in range(1, 6):
                await bus.publish(position)
        # then
        publish_warnings = [
            r for r in caplog.records if "doorbell not sent" in r.getMessage()
        ]
        assert len(publish_warnings) == 1
        assert await bus.ping() is False
        assert bus.connected is False


async def test_ping_is_false_until_following_then_true(
    redis: str, channel: str
) -> None:
    async with proxied(redis) as proxy:
        await proxy.cut()
        async with running(fast_bus(proxy.url, channel)) as bus:
            # given: Redis unreachable at start-up; the bus starts anyway
            assert await bus.ping() is False
            # when
            await proxy.start()
            # then
            await eventually_async(bus.ping)
            assert bus.connected is True


async def test_close_ends_every_listener(redis: str, channel: str) -> None:
    # given
    bus = RedisBus(redis, channel)
    await bus.start()
    doorbells = [Doorbells(bus), Doorbells(bus)]
    for listener in doorbells:
        assert await listener.next() == RECONNECTED
    # when
    await bus.close()
    # then
    await ended(*doorbells)
    assert [listener.rung.empty() for listener in doorbells] == [True, True]
