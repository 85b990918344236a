"""The hub: reads the log in batches, prepares once per batch, offers to each once."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import cast

import pytest

from kimgraph import models
from kimgraph.events import log
from kimgraph.events.log import EventRecord
from kimgraph.events.memory import MemoryBus
from kimgraph.live import hub as hub_module
from kimgraph.live.hub import Delivery, Hub, Preparer, SlowConsumer, Subscription

OCCURRED_AT = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)


async def log_events(streams: Sequence[str]) -> list[int]:
    """One committed event per stream named, in order; their ids."""
    ids = []
    for n, stream in enumerate(streams):
        row = await models.Event.create(
            stream=stream,
            kind="PUBLISHED",
            entity_id=n,
            regions="61.04",
            occurred_at=OCCURRED_AT,
        )
        ids.append(row.id)
    return ids


def recording(stream: str, calls: list[tuple[str, list[int]]]) -> Preparer:
    """A preparer that records each call's event ids and names each payload."""

    async def prepare(events: Sequence[EventRecord]) -> Mapping[int, object]:
        calls.append((stream, [event.id for event in events]))
        return {event.id: f"{stream} {event.entity_id}" for event in events}

    return prepare


async def taken(subscription: Subscription) -> list[Delivery]:
    """What a subscription has queued; it waits no longer than a moment for more."""
    deliveries = []
    while True:
        try:
            deliveries.append(await asyncio.wait_for(subscription.next(), 0.05))
        except TimeoutError:
            return deliveries


async def test_catch_up_reads_in_batches_and_offers_each_event_once(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: seven events of two streams, read three at a time
    monkeypatch.setattr(hub_module, "READ_BATCH", 3)
    ids = await log_events(["a", "b", "a", "b", "a", "b", "a"])
    reads: list[tuple[int, list[str], int]] = []
    read_after = log.read_after

    async def read(
        after_id: int, streams: Sequence[str], limit: int = 500
    ) -> list[EventRecord]:
        reads.append((after_id, list(streams), limit))
        return await read_after(after_id, streams, limit)

    monkeypatch.setattr(log, "read_after", read)
    prepared: list[tuple[str, list[int]]] = []
    hub = Hub(
        MemoryBus(), {"a": recording("a", prepared), "b": recording("b", prepared)}
    )
    everything = hub.subscribe(lambda event: True)
    only_a = hub.subscribe(lambda event: event.stream == "a")
    nothing = hub.subscribe(lambda event: False)
    # when
    await hub.catch_up()
    # then: three reads, each stream prepared once per batch it has events in
    assert reads == [
        (0, ["a", "b"], 3),
        (ids[2], ["a", "b"], 3),
        (ids[5], ["a", "b"], 3),
    ]
    assert prepared == [
        ("a", [ids[0], ids[2]]),
        ("b", [ids[1]]),
        ("a", [ids[4]]),
        ("b", [ids[3], ids[5]]),
        ("a", [ids[6]]),
    ]
    # and each subscriber got each event it accepts once, with its payload
    assert [(d.event.id, d.payload) for d in await taken(everything)] == [
        (ids[0], "a 0"),
        (ids[1], "b 1"),
        (ids[2], "a 2"),
        (ids[3], "b 3"),
        (ids[4], "a 4"),
        (ids[5], "b 5"),
        (ids[6], "a 6"),
    ]
    assert [(d.event.id, d.payload) for d in await taken(only_a)] == [
        (ids[0], "a 0"),
        (ids[2], "a 2"),
        (ids[4], "a 4"),
        (ids[6], "a 6"),
    ]
    assert await taken(nothing) == []
    assert (hub.position, hub.events_read) == (ids[6], 7)


async def test_a_full_batch_reads_on_and_a_short_one_ends_the_catch_up(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: exactly two batches' worth
    monkeypatch.setattr(hub_module, "READ_BATCH", 2)
    ids = await log_events(["a", "a", "a", "a"])
    prepared: list[tuple[str, list[int]]] = []
    hub = Hub(MemoryBus(), {"a": recording("a", prepared)})
    # when
    await hub.catch_up()
    # then: the empty third read found nothing to prepare
    assert prepared == [("a", ids[:2]), ("a", ids[2:])]
    assert (hub.position, hub.events_read) == (ids[3], 4)


async def test_a_subscriber_past_its_bound_is_told_it_is_too_slow() -> None:
    # given: a subscriber that may have two events waiting
    hub = Hub(MemoryBus(), {}, queue_size=2)
    slow = hub.subscribe(lambda event: True)
    events = [
        Delivery(EventRecord(n, "a", "PUBLISHED", n, ("61.04",), OCCURRED_AT), None)
        for n in (1, 2, 3, 4)
    ]
    # when: a third arrives before it takes any
    for delivery in events:
        slow.offer(delivery)
    # then: what was queued is dropped; it hears SlowConsumer, and nothing more
    assert slow.overflowed
    with pytest.raises(SlowConsumer):
        await slow.next()
    assert await taken(slow) == []


async def log_many(count: int) -> list[int]:
    """count committed events of stream "a", in one statement; their ids."""
    await models.Event.bulk_create(
        [
            models.Event(
                stream="a",
                kind="PUBLISHED",
                entity_id=n,
                regions="61.04",
                occurred_at=OCCURRED_AT,
            )
            for n in range(count)
        ]
    )
    rows = await models.Event.all().order_by("id").values_list("id", flat=True)
    return [int(cast(int, row)) for row in rows]


async def test_a_reader_that_keeps_up_gets_a_catch_up_larger_than_its_queue(
    db: str,
) -> None:
    # given: a subscriber with room for 256, reading as fast as it can
    hub = Hub(MemoryBus(), {"a": recording("a", [])}, queue_size=256)
    reader = hub.subscribe(lambda event: True)

    async def read(count: int) -> list[int]:
        return [(await reader.next()).event.id for _ in range(count)]

    reading = asyncio.ensure_future(read(1_000))
    # when: 1,000 events arrive at once (two reads of 500, each over its queue)
    ids = await log_many(1_000)
    await hub.catch_up()
    # then: it was not ended, and got all of them in order
    assert await asyncio.wait_for(reading, 60) == ids
    assert not reader.overflowed
    assert (hub.position, hub.events_read) == (ids[-1], 1_000)


async def test_a_reader_that_takes_nothing_is_told_it_is_too_slow(db: str) -> None:
    # given: a subscriber with room for 256 that never reads, and a hub that
    # waits a moment (injected small) for it to make room
    hub = Hub(MemoryBus(), {"a": recording("a", [])}, queue_size=256, patience=0.01)
    stalled = hub.subscribe(lambda event: True)
    # when: 1,000 events arrive at once
    ids = await log_many(1_000)
    await hub.catch_up()
    # then: the hub went on to the end; the subscriber holds only the overflow
    # mark (its queue was dropped) and hears SlowConsumer, then nothing
    assert (hub.position, hub.events_read) == (ids[-1], 1_000)
    assert stalled.overflowed
    with pytest.raises(SlowConsumer):
        await stalled.next()
    assert await taken(stalled) == []


async def test_close_ends_the_hub_when_a_doorbell_rings_as_it_is_cancelled(
    db: str,
) -> None:
    for turns in range(4):
        # given: a started hub whose log follower waits for a doorbell
        hub = Hub(MemoryBus(), {"a": recording("a", [])}, poll_interval=60)
        await hub.start()
        await asyncio.sleep(0.05)
        # when: a doorbell rings, and the hub is closed a few loop turns
        # later, as the follower wakes (Python 3.11's wait_for lost this
        # cancellation, and SIGTERM then waited for the follower for ever)
        hub.poke()
        for _ in range(turns):
            await asyncio.sleep(0)
        async with asyncio.timeout(10) as waited:
            await hub.close()
        # then: close() ended every task of the hub; it needed no second
        # cancel (the deadline's, whose expiry close() would have swallowed)
        assert not waited.expired()
        assert all(task.cancelled() for task in hub._tasks)
