"""Resuming cheaply: one shared catch-up per (group, cursor), no gap, nothing twice.

A tiny schema stands in for announcementEvents: its log is a list of event ids
the test appends to, its live run is fed by hand, and it counts how often a
catch-up replayed the log (docs/live-delivery.md, "Resuming cheaply").
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

import strawberry

from kimgraph.cursors import decode_event_cursor, encode_event_cursor
from kimgraph.events.log import CursorExpiredError
from kimgraph.live.group import Group
from kimgraph.live.member import Member
from kimgraph.live.runs import LiveOnly, ReplayOnly
from kimgraph.live.sharing import Sharing
from kimgraph.live.slow_consumers import CLOSE_SLOW_CONSUMER, REASON
from kimgraph.settings import Settings
from tests.kimgraph.live.sockets import loop_watchdog, until
from tests.kimgraph.live.ticks import Connection

TICKS = (
    "subscription ($from: Int!, $after: String) { ticks(start: $from, after: $after) }"
)
SHAREABLE = frozenset({"ticks"})


@dataclass(slots=True)
class Log:
    """The event log of the tiny schema, and what its runs did."""

    ids: list[int] = field(default_factory=list)
    expired_below: int = 0
    replays: int = 0
    # Cleared: a catch-up waits here before it reads the log.
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    # Cleared: a catch-up waits here after it read the log, before it yields.
    hold: asyncio.Event = field(default_factory=asyncio.Event)
    feed: asyncio.Queue[int] = field(default_factory=asyncio.Queue)

    def __post_init__(self) -> None:
        self.gate.set()
        self.hold.set()


@dataclass(slots=True)
class LogContext:
    """The Context fields the live path reads, and the log."""

    settings: Settings
    log: Log
    stream_run: LiveOnly | ReplayOnly | None = None
    request: object = None
    principal: object = None


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def ticks(
        self,
        info: strawberry.Info[LogContext, None],
        start: int,
        after: str | None = None,
    ) -> AsyncGenerator[int, None]:
        run = info.context.stream_run
        log = info.context.log
        if isinstance(run, ReplayOnly):
            assert after is not None
            after_id = decode_event_cursor(after)
            if after_id < log.expired_below:
                raise CursorExpiredError("this cursor is older than the log keeps")
            log.replays += 1
            await log.gate.wait()
            read = list(log.ids)
            await log.hold.wait()
            for event_id in read:
                if event_id > after_id:
                    if run.on_event is not None:
                        run.on_event(event_id)
                    yield event_id
            run.on_replayed(max([after_id, *read]))
            return
        assert isinstance(run, LiveOnly)
        run.on_position(start)
        while True:
            event_id = await log.feed.get()
            run.on_position(event_id)
            yield event_id


SCHEMA = strawberry.Schema(query=Query, subscription=Subscription)


def frame(operation_id: str, n: int) -> str:
    message = {"id": operation_id, "type": "next", "payload": {"data": {"ticks": n}}}
    return json.dumps(message, separators=(",", ":"))


def written(connection: Connection) -> list[int]:
    """The events a connection's socket was sent, in order."""
    return [
        json.loads(f)["payload"]["data"]["ticks"] for f in connection.socket.written
    ]


class Fixture:
    """A Sharing on the tiny schema; joins members that resume from a cursor."""

    def __init__(self, log: Log) -> None:
        self.log = log
        self.sharing = Sharing(SCHEMA, SHAREABLE)
        self.context = LogContext(settings=Settings(), log=log)

    def resume(self, connection: Connection, after_id: int) -> tuple[Group, Member]:
        cursor = encode_event_cursor(after_id)
        shape = self.sharing.shape(TICKS, {"from": 0, "after": cursor}, None)
        assert shape is not None
        member = connection.member("1")
        group = self.sharing.join(shape, self.context, member)  # type: ignore[arg-type]
        group.resume(member, cursor, after_id)
        return group, member

    async def publish(self, group: Group, event_id: int) -> None:
        """An event committed to the log, then followed live by the group."""
        events = self.sharing.stats.events
        self.log.ids.append(event_id)
        self.log.feed.put_nowait(event_id)
        await until(lambda: self.sharing.stats.events == events + 1)

    async def stop(self) -> None:
        groups = list(self.sharing.groups.values())
        for group in groups:
            for member in list(group.members):
                self.sharing.leave(group, member)
        tasks = {group.task for group in groups if group.task is not None}
        if tasks:
            await asyncio.wait(tasks, timeout=10)


async def test_members_resuming_from_one_cursor_share_one_catch_up() -> None:
    # given: 20 events after the cursor the boards saw last
    log = Log(ids=list(range(1, 31)))
    fixture = Fixture(log)
    connections = [Connection() for _ in range(100)]
    # when: a hundred boards resume from event 10
    joined = [fixture.resume(c, 10) for c in connections]
    group = joined[0][0]
    await until(lambda: not group.resuming)
    # then: one replay of the log served them all, each got 11..30 in order
    assert log.replays == 1
    assert all(group is g for g, _ in joined)
    assert all(written(c) == list(range(11, 31)) for c in connections)
    # and: the next live event reaches each once, sharing one encoded frame
    await fixture.publish(group, 31)
    assert all(written(c) == list(range(11, 32)) for c in connections)
    assert connections[0].socket.written[-1] == frame("1", 31)
    assert connections[0].socket.written[-1] is connections[99].socket.written[-1]
    assert all(m.live and m.waiting is None for _, m in joined)
    await fixture.stop()


async def test_events_during_the_catch_up_are_neither_missed_nor_doubled() -> None:
    # given: a catch-up held before it reads the log
    log = Log(ids=list(range(1, 21)))
    log.gate.clear()
    fixture = Fixture(log)
    connection = Connection()
    group, member = fixture.resume(connection, 0)
    await until(lambda: log.replays == 1)
    # when: two events go out live meanwhile; the catch-up then reads all 22
    await fixture.publish(group, 21)
    await fixture.publish(group, 22)
    assert connection.socket.written == []
    assert member.waiting == [
        (21, '{"data":{"ticks":21}}'),
        (22, '{"data":{"ticks":22}}'),
    ]
    log.gate.set()
    await until(lambda: member.live)
    await fixture.publish(group, 23)
    # then: every event once, in order
    assert written(connection) == list(range(1, 24))
    await fixture.stop()


async def test_a_finished_catch_up_serves_later_members_until_an_event_goes_out() -> (
    None
):
    # given: one board caught up from event 5
    log = Log(ids=list(range(1, 11)))
    fixture = Fixture(log)
    first, second, third = Connection(), Connection(), Connection()
    group, _ = fixture.resume(first, 5)
    await until(lambda: not group.resuming)
    # when: a second resumes from the same cursor: served from the same catch-up
    fixture.resume(second, 5)
    await until(lambda: not group.resuming)
    assert log.replays == 1
    assert written(second) == [6, 7, 8, 9, 10]
    # when: an event goes out, then a third resumes from that cursor
    await fixture.publish(group, 11)
    fixture.resume(third, 5)
    await until(lambda: not group.resuming)
    # then: a new catch-up, which has the event the old one did not
    assert log.replays == 2
    assert written(first) == written(second) == written(third) == list(range(6, 12))
    await fixture.stop()


async def test_a_member_that_joined_after_the_log_was_read_moves_to_a_newer_one() -> (
    None
):
    # given: a catch-up from event 5 that has read the log (1..10) and holds
    log = Log(ids=list(range(1, 11)))
    log.hold.clear()
    fixture = Fixture(log)
    first, second = Connection(), Connection()
    group, _ = fixture.resume(first, 5)
    await until(lambda: log.replays == 1)
    # when: event 11 goes out live, then a second board resumes from event 5,
    # joining the catch-up that read the log without it
    await fixture.publish(group, 11)
    fixture.resume(second, 5)
    with loop_watchdog(seconds=20):
        log.hold.set()
        await until(lambda: not group.resuming)
    # then: the second was moved to a newer catch-up (once: the loop was never
    # held), and both have every event once, in order
    assert log.replays == 2
    assert written(first) == written(second) == list(range(6, 12))
    await fixture.stop()


async def test_an_expired_cursor_is_left_to_each_owner_to_report() -> None:
    # given: a log pruned through event 50
    log = Log(ids=list(range(51, 61)), expired_below=50)
    fixture = Fixture(log)
    connections = [Connection() for _ in range(3)]
    # when: boards resume from event 10
    joined = [fixture.resume(c, 10) for c in connections]
    group = joined[0][0]
    await until(lambda: all(c.failed for c in connections))
    # then: each owner is told once (it reports CURSOR_EXPIRED on its own
    # path, as an unshared operation does); nothing was sent by the group
    assert [c.failed for c in connections] == [[m] for _, m in joined]
    assert all(c.socket.written == [] for c in connections)
    assert not group.resuming
    assert group.catch_ups == {}
    await fixture.stop()


async def test_a_member_that_falls_behind_while_catching_up_is_closed_1013() -> None:
    # given: a catch-up held; the connection's outbox takes 8 frames
    log = Log(ids=[1])
    log.gate.clear()
    fixture = Fixture(log)
    connection = Connection()
    group, member = fixture.resume(connection, 0)
    await until(lambda: log.replays == 1)
    # when: nine events go out before it is live
    for event_id in range(2, 11):
        await fixture.publish(group, event_id)
    # then: it is closed as a slow consumer, holding nothing
    await until(lambda: connection.socket.closed != [])
    assert connection.socket.closed == [(CLOSE_SLOW_CONSUMER, REASON)]
    assert member.waiting == []
    log.gate.set()
    await fixture.stop()


async def test_a_long_catch_up_is_written_as_the_reader_takes_it() -> None:
    # given: 1,000 events to replay to a socket that is not reading
    log = Log(ids=list(range(1, 1001)))
    fixture = Fixture(log)
    connection = Connection()
    connection.socket.writable.clear()
    group, member = fixture.resume(connection, 0)
    # one slice of half the queue: one frame in the suspended send, the rest queued
    slice_queued = connection.outbox.size // 2 - 1
    await until(lambda: connection.outbox.waiting >= slice_queued)
    for _ in range(10):
        await asyncio.sleep(0)
    assert connection.outbox.waiting == slice_queued
    # when: the reader reads again
    connection.socket.writable.set()
    await until(lambda: member.live)
    await fixture.publish(group, 1001)
    # then: all of them in order, and no 1013 for the size of the catch-up
    assert written(connection) == list(range(1, 1002))
    assert connection.socket.closed == []
    await fixture.stop()
