"""Memory policy: subscription events keep nothing; the GC thresholds are set."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from collections.abc import Iterator

import pytest
from graphql import build_schema, parse

from kimgraph.app import create_app
from kimgraph.memory import (
    FREEZE_EVERY_S,
    QUIET_OBJECTS,
    QUIET_S,
    THAW_EVERY_S,
    THAW_LATEST_S,
    THRESHOLDS,
    TICK_OBJECTS,
    EventExecutor,
    Freezer,
    start_policy,
    stop_policy,
)
from kimgraph.settings import Settings

SCHEMA = build_schema("""
type Query { a: Int }
type Thing { x: Int parts: [Thing!]! }
type Subscription { thing: Thing }
""")
SUBSCRIPTION = parse("subscription { thing { x parts { x } } }")


def test_a_subscription_keeps_nothing_of_the_events_it_delivered() -> None:
    # given: a subscription's executor, as graphql-core builds one per operation
    executor = EventExecutor.build(SCHEMA, SUBSCRIPTION)
    assert isinstance(executor, EventExecutor)
    # when: 50 events, each with a list of objects
    for n in range(50):
        event = executor.build_per_event_executor(
            {"thing": {"x": n, "parts": [{"x": n}, {"x": n + 1}]}}
        )
        result = event.execute_operation(False)
        assert result.data == {"thing": {"x": n, "parts": [{"x": n}, {"x": n + 1}]}}
    # then: graphql-core's memo of collected subfields, shared by every
    # event's executor, grew by one entry per event (issue 17, item 7)
    assert executor._relevant_sub_fields == {}


@pytest.fixture
def gc_state() -> Iterator[None]:
    threshold, callbacks = gc.get_threshold(), list(gc.callbacks)
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    gc.callbacks[:] = callbacks


@pytest.mark.usefixtures("gc_state")
def test_the_policy_freezes_start_up_and_times_every_pass() -> None:
    # when
    pauses = start_policy()
    gc.collect(0)
    # then
    assert gc.get_threshold() == THRESHOLDS
    assert gc.get_freeze_count() > 0
    assert pauses.collections[0] == 1
    stop_policy(pauses)
    assert pauses not in gc.callbacks


class Thing:
    """A tracked object in a cycle with itself, observed through a weak reference."""

    def __init__(self) -> None:
        self.me = self


def frozen(obj: object) -> bool:
    """Tracked, and in no generation: in the permanent one."""
    return gc.is_tracked(obj) and not any(o is obj for o in gc.get_objects())


@pytest.fixture
def freezer() -> Iterator[tuple[Freezer, list[float]]]:
    """A Freezer on a clock the test moves, in a process with nothing unfrozen."""
    gc.collect()
    gc.freeze()
    now = [0.0]
    yield Freezer(now=lambda: now[0]), now
    gc.unfreeze()
    gc.collect()


def quiet_ticks(freezer: Freezer, now: list[float], until: float) -> None:
    """A tick every 10 s up to `until`, allocating nothing that lives."""
    while now[0] < until:
        now[0] = min(now[0] + 10, until)
        freezer.tick()


def stormy_ticks(
    freezer: Freezer, now: list[float], until: float, sockets: list[list[object]]
) -> None:
    """A tick every 10 s up to `until`, each keeping QUIET_OBJECTS / 5 new objects
    (sockets connecting) in `sockets`."""
    while now[0] < until:
        now[0] += 10
        sockets.append([[] for _ in range(QUIET_OBJECTS // 5)])
        freezer.tick()


def died_frozen(freezer: Freezer) -> weakref.ref[Thing]:
    """A cycle frozen by a tick, then let go (a closed socket's transport)."""
    socket = Thing()
    closed = weakref.ref(socket)
    freezer.tick()
    del socket
    assert closed() is not None
    return closed


def test_a_tick_collects_the_garbage_made_since_the_last_and_freezes_what_lives(
    freezer: tuple[Freezer, list[float]],
) -> None:
    # given: one cycle kept, one dropped
    policy, _ = freezer
    kept = Thing()
    dropped = weakref.ref(Thing())
    assert dropped() is not None
    assert not frozen(kept)
    # when
    policy.tick()
    # then
    assert dropped() is None
    assert frozen(kept)
    assert policy.thaws == 0


@pytest.mark.usefixtures("gc_state")
def test_a_tick_is_due_after_its_time_or_sooner_once_enough_objects_were_made(
    freezer: tuple[Freezer, list[float]],
) -> None:
    # given: the thresholds a server runs with, and a tick just done
    policy, now = freezer
    gc.set_threshold(*THRESHOLDS)
    policy.tick()
    # then: with little made, not due until its time
    assert not policy.due()
    now[0] += FREEZE_EVERY_S - 0.01
    assert not policy.due()
    now[0] += 0.01
    assert policy.due()
    # when: a tick, then a storm's worth of objects kept before the time is up
    policy.tick()
    sockets: list[list[object]] = [[] for _ in range(TICK_OBJECTS)]
    # then: due at once, and the tick freezes them
    assert policy.due()
    policy.tick()
    assert all(frozen(s) for s in sockets[:: TICK_OBJECTS // 10])
    assert not policy.due()


def test_a_cycle_that_dies_frozen_waits_for_the_quiet_thaw(
    freezer: tuple[Freezer, list[float]],
) -> None:
    # given: a cycle frozen by a tick, then let go (a closed socket's transport)
    policy, now = freezer
    closed = died_frozen(policy)
    # when: quiet ticks up to just before the thaw is due
    quiet_ticks(policy, now, THAW_EVERY_S - 10)
    # then: no pass looked at it
    assert closed() is not None
    assert policy.thaws == 0
    # when: the thaw is due
    quiet_ticks(policy, now, THAW_EVERY_S)
    # then: one full pass over everything found it
    assert closed() is None
    assert policy.thaws == 1


def test_no_thaw_during_a_storm_until_the_latest(
    freezer: tuple[Freezer, list[float]],
) -> None:
    # given: a cycle that died frozen, and quiet ticks until the thaw is nearly due
    policy, now = freezer
    closed = died_frozen(policy)
    quiet_ticks(policy, now, THAW_EVERY_S - QUIET_S)
    # when: a storm through the last minute and past the time a quiet thaw
    # would come
    sockets: list[list[object]] = []
    stormy_ticks(policy, now, THAW_EVERY_S + 120, sockets)
    # then
    assert closed() is not None
    assert policy.thaws == 0
    # when: the storm goes on to the latest a thaw may wait
    stormy_ticks(policy, now, THAW_LATEST_S, sockets)
    # then
    assert closed() is None
    assert policy.thaws == 1
    assert all(frozen(s) for s in sockets)


async def test_a_served_app_freezes_what_outlives_a_tick(ketapang: str) -> None:
    # given: an app whose lifespan runs
    app = create_app(Settings(database_url=ketapang), manage_database=False)
    async with app.router.lifespan_context(app):
        # when: an object made after start-up lives on
        kept = Thing()
        # then: within a few ticks it is in no pass
        give_up = time.monotonic() + 60
        while not frozen(kept):
            assert time.monotonic() < give_up, "never frozen"
            await asyncio.sleep(FREEZE_EVERY_S / 5)
    # and: closed, the app gave every object back to the collector
    assert gc.get_freeze_count() == 0
