"""The Redis bus: doorbells between processes over Redis pub/sub.

Pub/sub forgets what it sent while a process was away, and the log poll covers
for that: after every (re)connect listeners get a doorbell (RECONNECTED), so the
hub reads whatever it missed from the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from kimgraph.events.bus import Listeners

logger = logging.getLogger("kimgraph.events")

DEFAULT_CHANNEL = "kimgraph:events"
# The doorbell that names no position (EventBus.listen): "read the log".
RECONNECTED = 0
# Redis answers in microseconds; a command slower than this finds Redis unusable.
COMMAND_TIMEOUT_S = 1.0
# A publish that failed makes the next ones skip Redis this long (no mutation
# waits on a connect timeout per event while Redis is away).
PUBLISH_PAUSE_S = 1.0
WARNING_INTERVAL_S = 60.0


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__


class _Warnings:
    """At most one warning per interval; the rest are counted into the next."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.next_at = 0.0
        self.suppressed = 0

    def warn(self, message: str, error: BaseException) -> None:
        now = asyncio.get_running_loop().time()
        if now < self.next_at:
            self.suppressed += 1
            return
        if self.suppressed:
            message += f" ({self.suppressed} more since the last warning)"
        logger.warning("%s: %s", message, _describe(error))
        self.next_at = now + self.interval
        self.suppressed = 0


class RedisBus:
    """Doorbells over one Redis pub/sub connection per process; survives outages.

    A reader task holds the subscription: it reconnects with capped, jittered
    backoff, sends its own PING when the connection is quiet and gives up on a
    connection that stays silent (a half-open TCP connection never errors).
    """

    def __init__(
        self,
        url: str,
        channel: str = DEFAULT_CHANNEL,
        *,
        health_seconds: float = 5.0,
        backoff_base: float = 0.2,
        backoff_cap: float = 5.0,
    ) -> None:
        self.url = url
        self.channel = channel
        self.health_seconds = health_seconds
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.connected = False
        self._client: Redis | None = None
        self._reader: asyncio.Task[None] | None = None
        self._listeners = Listeners()
        self._closed = False
        self._publish_paused_until = 0.0
        self._publish_warnings = _Warnings(WARNING_INTERVAL_S)
        self._listen_warnings = _Warnings(WARNING_INTERVAL_S)

    async def start(self) -> None:
        """Begin following the channel; an unreachable Redis is retried, not raised."""
        if self._client is not None:
            return
        self._client = Redis.from_url(
            self.url,
            socket_timeout=COMMAND_TIMEOUT_S,
            socket_connect_timeout=COMMAND_TIMEOUT_S,
            # Reconnecting is the reader's job, with its own backoff.
            retry=Retry(NoBackoff(), 0),
        )
        self._reader = asyncio.create_task(self._read(), name="kimgraph-redis-bus")

    async def close(self) -> None:
        self._closed = True
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        self._listeners.end()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self.connected = False

    async def publish(self, position: int) -> None:
        """Ring; never raises: with Redis away, other processes poll the log."""
        client = self._client
        loop = asyncio.get_running_loop()
        if client is None or loop.time() < self._publish_paused_until:
            return
        try:
            async with asyncio.timeout(COMMAND_TIMEOUT_S):
                await client.publish(self.channel, str(position))
        except (RedisError, OSError) as exc:  # TimeoutError is an OSError
            self._publish_paused_until = loop.time() + PUBLISH_PAUSE_S
            self._publish_warnings.warn(
                "Redis unreachable, doorbell not sent (others poll the log)", exc
            )

    async def listen(self) -> AsyncIterator[int]:
        """Positions from every process; RECONNECTED once following, and after gaps."""
        if self._closed:
            return
        async for position in self._listeners.listen(
            RECONNECTED if self.connected else None
        ):
            yield position

    async def ping(self) -> bool:
        """True if the subscription is live and Redis answers a PING now."""
        if not self.connected or self._client is None:
            return False
        try:
            async with asyncio.timeout(COMMAND_TIMEOUT_S):
                return bool(await self._client.ping())
        except (RedisError, OSError):
            return False

    async def _read(self) -> None:
        """Hold the subscription for the life of the bus."""
        assert self._client is not None
        failures = 0
        while True:
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                await self._follow(pubsub)
            except (RedisError, OSError) as exc:
                if self.connected:
                    failures = 0
                    logger.warning(
                        "Redis connection lost (%s); polling the event log until "
                        "it is back",
                        _describe(exc),
                    )
                else:
                    self._listen_warnings.warn(
                        "Redis unreachable; polling the event log meanwhile", exc
                    )
            except Exception:  # a bug must not end the reader: the poll still runs
                logger.exception("Redis bus reader failed; reconnecting")
            finally:
                self.connected = False
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            failures += 1
            await asyncio.sleep(self._backoff(failures))

    async def _follow(self, pubsub: PubSub) -> None:
        """Read messages until the connection fails or falls silent."""
        loop = asyncio.get_running_loop()
        began = heard = pinged = loop.time()
        limit = 3 * self.health_seconds
        while True:
            message = await pubsub.get_message(timeout=self.health_seconds / 4)
            now = loop.time()
            if not self.connected and now - began > limit:
                raise ConnectionError("Redis did not confirm the subscription")
            if message is None:
                if now - heard > limit:
                    raise ConnectionError("no answer from Redis (half-open?)")
                if now - heard > self.health_seconds and now - pinged > (
                    self.health_seconds
                ):
                    await pubsub.ping()
                    pinged = now
                continue
            heard = now
            kind = message["type"]
            if kind == "subscribe":
                if not self.connected:
                    logger.info("following Redis channel %s", self.channel)
                self.connected = True
                self._listeners.ring(RECONNECTED)
            elif kind == "message":
                try:
                    self._listeners.ring(int(message["data"]))
                except ValueError:
                    logger.warning("ignored a malformed doorbell %r", message["data"])

    def _backoff(self, failures: int) -> float:
        """Exponential, capped, with jitter so processes do not reconnect in step."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** min(failures, 30))
        return random.uniform(ceiling / 2, ceiling)
