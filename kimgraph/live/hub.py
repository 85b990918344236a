"""One listener per process: reads new events from the log once, fans them out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from kimgraph.events import log
from kimgraph.events.bus import EventBus
from kimgraph.events.log import EventRecord

logger = logging.getLogger("kimgraph.events")

# How many events a subscriber may have waiting before it counts as too slow.
DEFAULT_QUEUE_SIZE = 256
READ_BATCH = 500
# A replay's page is held while its subscriber's socket drains it: 100 replays
# at once hold 100 pages, which a full collection walks (docs/performance.md).
REPLAY_BATCH = 100
# How long a subscriber whose queue is full may take no event at all before it
# counts as not reading (docs/live-delivery.md, "Back-pressure").
DEFAULT_PATIENCE_SECONDS = 5.0

Preparer = Callable[[Sequence[EventRecord]], Awaitable[Mapping[int, object]]]
EventFilter = Callable[[EventRecord], bool]


class SlowConsumer(Exception):
    """A subscriber fell further behind than its queue allows."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """An event and what its stream's preparer made of it (shared by all)."""

    event: EventRecord
    payload: object


class Subscription:
    """One subscriber's bounded queue of matching events."""

    __slots__ = ("_hub", "_queue", "accepts", "closed", "overflowed", "start_position")

    def __init__(self, hub: Hub, accepts: EventFilter, size: int) -> None:
        self._hub = hub
        # None marks an overflow: the subscriber resumes from its cursor.
        self._queue: asyncio.Queue[Delivery | None] = asyncio.Queue(size)
        self.accepts = accepts
        self.overflowed = False
        self.closed = False
        self.start_position = hub.position

    def offer(self, delivery: Delivery) -> None:
        """Queue an event now; a full queue counts as too slow at once."""
        if self.overflowed or self.closed:
            return
        try:
            self._queue.put_nowait(delivery)
        except asyncio.QueueFull:
            self._overflow()

    def offer_all(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        """Queue the accepted events while there is room; those that did not fit."""
        queue = self._queue
        for index, delivery in enumerate(deliveries):
            if self.overflowed or self.closed:
                return []
            if not self.accepts(delivery.event):
                continue
            if queue.full():
                return [d for d in deliveries[index:] if self.accepts(d.event)]
            queue.put_nowait(delivery)
        return []

    async def put_patiently(
        self, deliveries: Sequence[Delivery], patience: float
    ) -> None:
        """Queue each event as the reader makes room: back-pressure, not an end.

        A reader that takes no event for `patience` seconds while its queue is
        full does not read at all (its socket is stalled): it overflows, and is
        closed with 1013 and resumes with its cursor. Memory stays bounded by
        the queue; the events themselves are the hub's batch, held anyway.
        """
        for delivery in deliveries:
            if self.overflowed or self.closed:
                return
            if not self._queue.full():
                self._queue.put_nowait(delivery)
                continue
            try:
                async with asyncio.timeout(patience):
                    await self._queue.put(delivery)
            except TimeoutError:
                if not self.closed:
                    self._overflow()
                return

    def _overflow(self) -> None:
        self.overflowed = True
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def next(self) -> Delivery:
        """The next event; SlowConsumer once the queue has overflowed."""
        delivery = await self._queue.get()
        if delivery is None:
            raise SlowConsumer("the subscriber fell too far behind")
        return delivery

    def close(self) -> None:
        self.closed = True
        self._hub._subscriptions.discard(self)
        # Frees the queue, and a hub waiting for room stops waiting.
        while not self._queue.empty():
            self._queue.get_nowait()


class Hub:
    """Follows the log for this process and offers each event to its subscribers."""

    def __init__(
        self,
        bus: EventBus,
        preparers: Mapping[str, Preparer],
        *,
        poll_interval: float = 2.0,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        patience: float = DEFAULT_PATIENCE_SECONDS,
    ) -> None:
        self.bus = bus
        self.preparers = dict(preparers)
        self.poll_interval = poll_interval
        self.queue_size = queue_size
        self.patience = patience
        self.position = 0
        # For /metrics: events read from the log.
        self.events_read = 0
        self._subscriptions: set[Subscription] = set()
        self._wakeup = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._lock = asyncio.Lock()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    async def start(self) -> None:
        """Start from the log's current end; follow the bus and poll the log."""
        self.position = await log.position()
        self._tasks = [
            asyncio.create_task(self._follow_bus(), name="kimgraph-bus"),
            asyncio.create_task(self._follow_log(), name="kimgraph-log"),
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def subscribe(self, accepts: EventFilter) -> Subscription:
        """Queue every later event that `accepts` takes."""
        subscription = Subscription(self, accepts, self.queue_size)
        self._subscriptions.add(subscription)
        return subscription

    @contextlib.asynccontextmanager
    async def subscription(self, accepts: EventFilter) -> AsyncIterator[Subscription]:
        """subscribe(), closed on exit."""
        subscription = self.subscribe(accepts)
        try:
            yield subscription
        finally:
            subscription.close()

    def poke(self) -> None:
        """Read the log now."""
        self._wakeup.set()

    async def announce(self, position: int) -> None:
        """Tell every process (this one too) that events up to position committed."""
        self.poke()
        try:
            await self.bus.publish(position)
        except Exception:  # other processes poll the log instead
            logger.warning("event bus publish failed; others will poll", exc_info=True)

    async def follow(
        self,
        stream: str,
        after_id: int | None,
        accepts: EventFilter,
        on_following: Callable[[int], None] | None = None,
    ) -> AsyncIterator[Delivery]:
        """Logged events after after_id, then live ones: none missing, none twice.

        Without after_id, only live ones. on_following is told the position the
        live events follow from, once nothing after it can be missed.
        SlowConsumer when the subscriber falls too far behind.
        """
        # Registered before the replay reads the log, so the seam has no gap;
        # ids already replayed are skipped when they arrive live.
        async with self.subscription(accepts) as live:
            position = live.start_position if after_id is None else after_id
            if on_following is not None:
                on_following(position)
            if after_id is not None:
                async for delivery in self.replay(stream, after_id, accepts):
                    position = delivery.event.id
                    yield delivery
            while True:
                delivery = await live.next()
                if delivery.event.id <= position:
                    continue
                position = delivery.event.id
                yield delivery

    async def replay(
        self,
        stream: str,
        after_id: int,
        accepts: EventFilter,
        on_read: Callable[[int], None] | None = None,
        batch: int = REPLAY_BATCH,
    ) -> AsyncIterator[Delivery]:
        """Matching logged events after a position, oldest first, up to the end.

        on_read is told the id of the last event of each page read (matching
        or not) before that page's events are yielded.
        """
        position = after_id
        while True:
            events = await log.read_after(position, [stream], batch)
            if not events:
                return
            matching = [e for e in events if accepts(e)]
            payloads = await self.preparers[stream](matching) if matching else {}
            position = events[-1].id
            if on_read is not None:
                on_read(position)
            for event in matching:
                yield Delivery(event, payloads.get(event.id))

    async def catch_up(self) -> None:
        """Read and deliver every event after the current position."""
        async with self._lock:
            while True:
                events = await log.read_after(
                    self.position, list(self.preparers), READ_BATCH
                )
                if not events:
                    return
                behind = await self._deliver(events)
                self.events_read += len(events)
                # Moved on before waiting for readers that are behind, so that
                # a subscriber registering meanwhile starts after this batch.
                self.position = events[-1].id
                if behind:
                    await asyncio.gather(
                        *(
                            subscription.put_patiently(rest, self.patience)
                            for subscription, rest in behind
                        )
                    )
                if len(events) < READ_BATCH:
                    return

    async def _deliver(
        self, events: Sequence[EventRecord]
    ) -> list[tuple[Subscription, list[Delivery]]]:
        """Offer a batch to every subscriber; who is behind, with what is left.

        A batch (up to 500) may exceed a queue (256): what does not fit is
        handed over as the reader makes room (Subscription.put_patiently), so
        a reader that keeps up gets all of it, in order, and is never ended
        for the size of a catch-up.
        """
        payloads: dict[int, object] = {}
        for stream, preparer in self.preparers.items():
            batch = [e for e in events if e.stream == stream]
            if batch:
                payloads.update(await preparer(batch))
        deliveries = [Delivery(event, payloads.get(event.id)) for event in events]
        behind = []
        for subscription in list(self._subscriptions):
            rest = subscription.offer_all(deliveries)
            if rest:
                behind.append((subscription, rest))
        return behind

    async def _follow_bus(self) -> None:
        while True:
            try:
                async for _ in self.bus.listen():
                    self._wakeup.set()
            except asyncio.CancelledError:
                raise
            except Exception:  # the log poll covers for a lost bus
                logger.warning("event bus failed; polling the log", exc_info=True)
            await asyncio.sleep(self.poll_interval)

    async def _follow_log(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wakeup.wait()
            self._wakeup.clear()
            try:
                await self.catch_up()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep following; the next poll retries
                logger.exception("reading the event log failed")
