"""The registry of shared runs: started by the first join, stopped by the last leave."""

from __future__ import annotations

import asyncio

from kimgraph.live.group import Group
from kimgraph.live.sharing import Sharing
from tests.kimgraph.live.sockets import until
from tests.kimgraph.live.ticks import SCHEMA, SHAREABLE, TICKS, Connection, template

DEADLINE_S = 10.0


async def stop(sharing: Sharing) -> None:
    """Every member leaves every group; return once the runs have stopped."""
    groups: list[Group] = list(sharing.groups.values())
    for group in groups:
        for member in list(group.members):
            sharing.leave(group, member)
    tasks = {group.task for group in groups if group.task is not None}
    _, running = await asyncio.wait(tasks, timeout=DEADLINE_S)
    assert running == set()


async def test_the_first_join_starts_a_run_that_later_joins_share() -> None:
    # given
    sharing = Sharing(SCHEMA, SHAREABLE)
    shape = sharing.shape(TICKS, {"from": 0}, None)
    other_shape = sharing.shape(TICKS, {"from": 5}, None)
    assert shape is not None
    assert other_shape is not None
    first, second, third = Connection(), Connection(), Connection()
    a, b, c = first.member("1"), second.member("1"), third.member("1")
    # when
    group = sharing.join(shape, template(), a)
    again = sharing.join(shape, template(), b)
    other = sharing.join(other_shape, template(), c)
    # then
    assert again is group
    assert other is not group
    assert sharing.groups == {shape.key: group, other_shape.key: other}
    assert group.members == {a, b}
    assert sharing.member_count == 3
    await until(lambda: group.following and other.following)
    assert group.position == 0
    assert other.position == 5
    await stop(sharing)


async def test_the_last_leave_cancels_the_run_and_forgets_the_group() -> None:
    # given: a running group with two members
    sharing = Sharing(SCHEMA, SHAREABLE)
    shape = sharing.shape(TICKS, {"from": 0}, None)
    assert shape is not None
    connection = Connection()
    a, b = connection.member("1"), connection.member("2")
    group = sharing.join(shape, template(), a)
    sharing.join(shape, template(), b)
    await until(lambda: group.following)
    assert group.task is not None
    # when: one leaves, the run goes on
    sharing.leave(group, a)
    await asyncio.sleep(0)
    assert sharing.groups == {shape.key: group}
    assert not group.task.done()
    # when: the last leaves
    sharing.leave(group, b)
    # then: the run is cancelled and the group gone; a new join starts afresh
    assert sharing.groups == {}
    await asyncio.wait({group.task}, timeout=DEADLINE_S)
    assert group.task.cancelled()
    assert connection.ended == []
    fresh = sharing.join(shape, template(), a)
    assert fresh is not group
    await stop(sharing)


async def test_a_failing_run_completes_its_live_members_operations() -> None:
    # given: a group with one live member and one still replaying
    sharing = Sharing(SCHEMA, SHAREABLE)
    shape = sharing.shape(TICKS, {"from": 0}, None)
    assert shape is not None
    live, replaying = Connection(), Connection()
    a, b = live.member("1"), replaying.member("1")
    context = template()
    group = sharing.join(shape, context, a)
    sharing.join(shape, context, b)
    await until(lambda: group.following)
    a.go_live(group.position)
    # when: the run's source fails
    context.feed.put_nowait(-1)
    await until(lambda: group.ended)
    await asyncio.sleep(0)
    # then: the live member's operation is completed; the other notices itself
    assert live.ended == [a]
    assert replaying.ended == []
    assert sharing.groups == {}
    assert group.members == set()
    assert live.socket.written == []
