"""Reporter keys and their throttle, without the database (docs/domain.md, "Limits")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kimgraph.aspirations.reporter import ReporterKeyThrottle
from kimgraph.aspirations.submission import (
    TICKET_ALPHABET,
    key_digest,
    new_reporter_key,
)
from kimgraph.clock import FixedClock
from kimgraph.errors import Problem, ProblemCode, UserInputError

TICKET = "ASP-6104-2026-7KQ3MXD9"


def limited(minutes: int) -> list[Problem]:
    return [
        Problem(
            ProblemCode.RATE_LIMITED,
            f"too many wrong reporter keys; try again in {minutes} minute(s)",
            None,
        )
    ]


def test_a_key_is_four_groups_of_the_tickets_alphabet_and_typed_loosely() -> None:
    # when
    keys = {new_reporter_key() for _ in range(200)}
    # then
    assert len(keys) == 200
    for key in keys:
        groups = key.split("-")
        assert [len(group) for group in groups] == [4, 4, 4, 4]
        assert set("".join(groups)) <= set(TICKET_ALPHABET)
    assert key_digest("7kq3 mxd9-abcd efgh") == key_digest("7KQ3-MXD9-ABCD-EFGH")
    assert key_digest("7KQ3-MXD9-ABCD-EFGH") != key_digest("7KQ3-MXD9-ABCD-EFGJ")
    assert len(key_digest("7KQ3-MXD9-ABCD-EFGH")) == 64


async def test_five_tries_per_ticket_and_address_then_one_per_five_minutes() -> None:
    # given
    clock = FixedClock(datetime(2026, 11, 28, 1, 0, tzinfo=UTC))
    throttle = ReporterKeyThrottle(clock)
    for _ in range(5):
        await throttle.attempt("10.0.0.1", TICKET)
    # when
    with pytest.raises(UserInputError) as refused:
        await throttle.attempt("10.0.0.1", TICKET)
    # then: only this pair is held up
    assert refused.value.problems == limited(5)
    await throttle.attempt("10.0.0.2", TICKET)
    await throttle.attempt("10.0.0.1", "ASP-6104-2026-22222222")
    clock.advance(timedelta(minutes=5))
    await throttle.attempt("10.0.0.1", TICKET)


async def test_the_retry_wait_is_the_throttles_setting() -> None:
    # given: KIMGRAPH_REPORTER_KEY_RETRY_SECONDS=2, and a pair that spent its five
    clock = FixedClock(datetime(2026, 11, 28, 1, 0, tzinfo=UTC))
    throttle = ReporterKeyThrottle(clock, retry_seconds=2)
    for _ in range(5):
        await throttle.attempt("10.0.0.1", TICKET)
    # when: just before the wait is over
    clock.advance(timedelta(seconds=1.9))
    with pytest.raises(UserInputError) as refused:
        await throttle.attempt("10.0.0.1", TICKET)
    # then: refused (rounded up to a minute), and one more try once it is over
    assert refused.value.problems == limited(1)
    clock.advance(timedelta(seconds=0.1))
    await throttle.attempt("10.0.0.1", TICKET)
    with pytest.raises(UserInputError):
        await throttle.attempt("10.0.0.1", TICKET)


async def test_a_right_key_gives_its_tokens_back() -> None:
    # given
    clock = FixedClock(datetime(2026, 11, 28, 1, 0, tzinfo=UTC))
    throttle = ReporterKeyThrottle(clock)
    # when: a hundred right keys
    for _ in range(100):
        await throttle.succeeded(await throttle.attempt("10.0.0.1", TICKET))
    # then: a wrong one still goes through to be checked
    await throttle.attempt("10.0.0.1", TICKET)


async def test_a_guesser_on_many_addresses_leaves_each_address_three_tries() -> None:
    # given: twenty addresses spend the ticket's own allowance
    clock = FixedClock(datetime(2026, 11, 28, 1, 0, tzinfo=UTC))
    throttle = ReporterKeyThrottle(clock)
    for n in range(20):
        await throttle.attempt(f"10.0.1.{n}", TICKET)
    # when: a fresh address (the reporter's, say) tries
    for _ in range(3):
        await throttle.attempt("10.0.2.1", TICKET)
    with pytest.raises(UserInputError) as refused:
        await throttle.attempt("10.0.2.1", TICKET)
    # then: three tries, then one per 20 minutes (or the ticket's 3 minutes)
    assert refused.value.problems == limited(3)


async def test_one_address_gets_twenty_tries_across_tickets() -> None:
    # given
    clock = FixedClock(datetime(2026, 11, 28, 1, 0, tzinfo=UTC))
    throttle = ReporterKeyThrottle(clock)
    for n in range(20):
        await throttle.attempt("10.0.0.1", f"ASP-6104-2026-{n:08d}")
    # when
    with pytest.raises(UserInputError) as refused:
        await throttle.attempt("10.0.0.1", TICKET)
    # then: one more per 45 s
    assert refused.value.problems == limited(1)
