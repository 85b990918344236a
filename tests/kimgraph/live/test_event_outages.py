"""An event whose fields could not be read is never sent: the socket closes 1013.

Issue 16's fault harness saw partner apps receive `next` with `data: null` and
INTERNAL while PostgreSQL connections were terminated, and a resuming board's
own replay send one and then go live past it: the event was lost. Here a field
fails for one event as a lost connection makes it fail (the driver's error is
an OSError), on a shared run and on a socket's own operation, and a field that
fails with a bug is shown to be sent as before (kimgraph.live.event_outages).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest
import strawberry

from kimgraph.live.event_outages import REASON
from kimgraph.live.member import Member
from kimgraph.live.outbox import Outbox
from kimgraph.live.pinger import Pinger
from kimgraph.live.protocol import TransportWSHandler
from kimgraph.live.runs import LiveOnly
from kimgraph.live.sharing import Sharing
from kimgraph.outage import CLOSE_TRY_AGAIN
from kimgraph.settings import Settings
from schema.errors import ApiErrors
from tests.kimgraph.live.sockets import Adapter, Socket, accept, until
from tests.kimgraph.live.ticks import FedContext, Query

# Event 2 fails to read: as a terminated connection does, or with a bug.
FAILURES: dict[str, Exception] = {
    "outage": ConnectionResetError("connection was closed in the middle of operation"),
    "bug": ValueError("a bug"),
}


@dataclass(slots=True)
class FailingContext(FedContext):
    """The fed Context (tests.kimgraph.live.ticks), and how event 2 fails."""

    failure: str = "outage"


@strawberry.type
class Item:
    n: int

    @strawberry.field
    def title(self, info: strawberry.Info[FailingContext, None]) -> str:
        if self.n == 2:
            raise FAILURES[info.context.failure]
        return f"item {self.n}"


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def shared(
        self, info: strawberry.Info[FailingContext, None], start: int
    ) -> AsyncGenerator[Item, None]:
        # A shared run's contract (kimgraph.live.runs.LiveOnly).
        run = info.context.stream_run
        assert isinstance(run, LiveOnly)
        run.on_position(start)
        while True:
            event_id = await info.context.feed.get()
            run.on_position(event_id)
            yield Item(n=event_id)

    @strawberry.subscription
    async def own(
        self, info: strawberry.Info[FailingContext, None]
    ) -> AsyncGenerator[Item, None]:
        while True:
            yield Item(n=await info.context.feed.get())


SCHEMA = strawberry.Schema(
    query=Query, subscription=Subscription, extensions=[ApiErrors]
)
SHARED = "subscription ($from: Int!) { shared(start: $from) { n title } }"
OWN = "subscription { own { n title } }"


class Connection:
    """Stands in for a socket's handler (kimgraph.live.member.Owner)."""

    def __init__(self) -> None:
        self.socket = Socket()
        self.outbox = Outbox(self.socket, size=8)
        self.ended: list[Member] = []

    def group_ended(self, member: Member) -> None:
        self.ended.append(member)

    def resume_failed(self, member: Member) -> None:
        raise AssertionError("nothing resumes here")


def item(n: int) -> dict[str, Any]:
    return {"n": n, "title": f"item {n}"}


async def test_a_shared_event_that_could_not_be_read_closes_every_member() -> None:
    # given: two live members of one shared run, which sent event 1
    sharing = Sharing(SCHEMA, frozenset({"shared"}))
    shape = sharing.shape(SHARED, {"from": 0}, None)
    assert shape is not None
    context = FailingContext(settings=Settings())
    connections = [Connection(), Connection()]
    members = [Member("1", c.outbox, c) for c in connections]
    group = sharing.join(shape, context, members[0])
    sharing.join(shape, context, members[1])
    await until(lambda: group.following)
    for member in members:
        member.go_live(group.position)
    context.feed.put_nowait(1)
    await until(lambda: sharing.stats.events == 1)
    # when: event 2's fields fail as a lost database connection makes them
    context.feed.put_nowait(2)
    context.feed.put_nowait(3)
    assert group.task is not None
    await asyncio.wait({group.task}, timeout=10)
    await until(lambda: all(c.socket.closed for c in connections))
    # then: event 1 only, no null event; each socket closed with 1013 to resume
    first = json.dumps(
        {"id": "1", "type": "next", "payload": {"data": {"shared": item(1)}}},
        separators=(",", ":"),
    )
    for connection in connections:
        assert connection.socket.written == [first]
        assert connection.socket.closed == [(CLOSE_TRY_AGAIN, REASON)]
        assert connection.ended == []
    assert sharing.groups == {}
    assert sharing.stats.events == 1


def handler(adapter: Adapter, context: FailingContext) -> TransportWSHandler:
    settings = Settings()
    view = SimpleNamespace(
        live=SimpleNamespace(
            settings=settings,
            pinger=Pinger(interval=60.0),
            sharing=Sharing(SCHEMA, frozenset({"shared"})),
        ),
        on_ws_connect=accept,
    )
    return TransportWSHandler(
        cast(Any, view),
        cast(Any, adapter),
        context,
        None,
        SCHEMA,
        timedelta(seconds=10),
    )


@pytest.mark.parametrize(
    ("failure", "closed"), [("outage", [(CLOSE_TRY_AGAIN, REASON)]), ("bug", [])]
)
async def test_an_own_event_that_could_not_be_read_closes_its_socket(
    failure: str, closed: list[tuple[int, str]]
) -> None:
    # given: a socket's own operation that was sent event 1
    adapter = Adapter()
    context = FailingContext(settings=Settings(), failure=failure)
    task = asyncio.ensure_future(handler(adapter, context).handle())
    adapter.incoming.put_nowait({"type": "connection_init", "payload": {}})
    adapter.incoming.put_nowait(
        {"id": "a", "type": "subscribe", "payload": {"query": OWN}}
    )
    context.feed.put_nowait(1)
    await until(lambda: len(adapter.sent) == 2)
    # when: event 2 fails to read, then event 3 comes
    context.feed.put_nowait(2)
    context.feed.put_nowait(3)
    if failure == "outage":
        await asyncio.wait_for(task, 10)
    else:
        await until(lambda: len(adapter.sent) == 4)
        adapter.incoming.put_nowait(None)
        await asyncio.wait_for(task, 10)
    # then: an outage is never sent (1013, the client resumes); a bug is
    sent = [(m["type"], m.get("payload")) for m in adapter.sent]
    internal = {
        "data": None,
        "errors": [
            {
                "message": "Unexpected error.",
                "locations": [{"line": 1, "column": 24}],
                "path": ["own", "title"],
                "extensions": {"code": "INTERNAL"},
            }
        ],
    }
    expected: list[tuple[str, Any]] = [
        ("connection_ack", None),
        ("next", {"data": {"own": item(1)}}),
    ]
    if failure == "bug":
        expected += [("next", internal), ("next", {"data": {"own": item(3)}})]
    assert sent == expected
    assert adapter.closed == closed
