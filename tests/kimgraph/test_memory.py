"""Memory policy: subscription events keep nothing; the GC thresholds are set."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from graphql import build_schema, parse

from kimgraph.memory import THRESHOLDS, EventExecutor, start_policy, stop_policy

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
