"""A group: one execution per event, one frame per operation id, no gap at the seam."""

from __future__ import annotations

import asyncio
import json

import pytest

from kimgraph.live.sharing import Sharing
from tests.kimgraph.live.sockets import until
from tests.kimgraph.live.ticks import SCHEMA, SHAREABLE, TICKS, Connection, template


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def payload(n: int) -> str:
    """An encoded result, as a group hands it to its members."""
    return compact({"n": n})


def frame(operation_id: str, result: object) -> str:
    """The `next` frame an operation gets for a result."""
    return compact({"id": operation_id, "type": "next", "payload": result})


@pytest.mark.parametrize(
    ("replayed_through", "sent"),
    [
        # the replay ended before anything buffered: all of it, then what follows
        (4, [5, 6, 7, 8]),
        # the replay already sent 5 and 6
        (6, [7, 8]),
        (7, [8]),
        # the replay read past everything buffered and the next live event too
        (9, []),
    ],
)
async def test_a_replaying_member_buffers_then_drops_what_it_replayed(
    replayed_through: int, sent: list[int]
) -> None:
    # given: a member still replaying while the group sends 5, 6 and 7
    connection = Connection()
    member = connection.member("1")
    for n in (5, 6, 7):
        assert not member.deliver(n, payload(n), {})
    assert connection.socket.written == []
    # when: its replay ends, and the group sends 7 (again) and 8
    member.go_live(replayed_through)
    for n in (7, 8):
        member.deliver(n, payload(n), {})
    # then: each event once, in order, none missing
    assert connection.socket.written == [frame("1", {"n": n}) for n in sent]
    assert member.position == max(replayed_through, 8)
    assert member.waiting is None


async def test_members_with_one_operation_id_share_one_frame_per_event() -> None:
    # given: boards all use operation id "1"; a partner app uses "sub-7"
    boards = [Connection() for _ in range(3)]
    partner = Connection()
    members = [board.member("1") for board in boards] + [partner.member("sub-7")]
    for member in members:
        member.go_live(0)
    frames: dict[str, tuple[str, bytes | None]] = {}
    # when
    delivered = [member.deliver(3, payload(3), frames) for member in members]
    # then: one frame (and one encoding) per operation id, the same object
    assert delivered == [True, True, True, True]
    assert list(frames) == ['{"id":"1","type":"next",', '{"id":"sub-7","type":"next",']
    assert [board.socket.written for board in boards] == [[frame("1", {"n": 3})]] * 3
    assert boards[0].socket.written[0] is boards[2].socket.written[0]
    assert partner.socket.written == [frame("sub-7", {"n": 3})]


async def test_a_group_runs_once_per_event_for_all_its_members() -> None:
    # given: three live members and one still replaying, in one group
    sharing = Sharing(SCHEMA, SHAREABLE)
    shape = sharing.shape(TICKS, {"from": 10}, None)
    assert shape is not None
    context = template()
    connections = [Connection() for _ in range(4)]
    members = [
        connections[0].member("1"),
        connections[1].member("1"),
        connections[2].member("2"),
        connections[3].member("1"),
    ]
    group = sharing.join(shape, context, members[0])
    for member in members[1:]:
        sharing.join(shape, context, member)
    await until(lambda: group.following)
    for member in members[:3]:
        member.go_live(group.position)
    # when: the run follows two events
    context.feed.put_nowait(11)
    context.feed.put_nowait(12)
    await until(lambda: sharing.stats.events == 2)
    # then: each live member got each event once; the replaying one buffered them
    ticks = [{"data": {"ticks": 11}}, {"data": {"ticks": 12}}]
    assert [c.socket.written for c in connections] == [
        [frame("1", ticks[0]), frame("1", ticks[1])],
        [frame("1", ticks[0]), frame("1", ticks[1])],
        [frame("2", ticks[0]), frame("2", ticks[1])],
        [],
    ]
    assert members[3].waiting == [(11, compact(ticks[0])), (12, compact(ticks[1]))]
    assert sharing.stats.deliveries == 6
    assert sharing.stats.seconds.count == 2
    for member in members:
        sharing.leave(group, member)
    assert group.task is not None
    await asyncio.wait({group.task}, timeout=10)
    assert group.task.cancelled()
