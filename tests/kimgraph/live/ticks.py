"""A tiny schema whose shareable subscription a test feeds by hand, and stand-ins.

`ticks` follows the LiveOnly contract a shared run is given: it reports where
it follows from, then each event's id before yielding it. A negative id makes
the run fail.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

import strawberry

from kimgraph.context import Context
from kimgraph.live.member import Member
from kimgraph.live.outbox import Outbox
from kimgraph.live.runs import LiveOnly
from kimgraph.settings import Settings
from tests.kimgraph.live.sockets import Socket

TICKS = "subscription ($from: Int!) { ticks(start: $from) }"
SHAREABLE = frozenset({"ticks"})


@dataclass(slots=True)
class FedContext(Context):
    """The Context, with the queue of event ids the test feeds the run."""

    feed: asyncio.Queue[int] = field(default_factory=asyncio.Queue)


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def ticks(
        self, info: strawberry.Info[FedContext, None], start: int
    ) -> AsyncGenerator[int, None]:
        run = info.context.stream_run
        assert isinstance(run, LiveOnly)
        run.on_position(start)
        while True:
            event_id = await info.context.feed.get()
            if event_id < 0:
                raise RuntimeError("the source failed")
            run.on_position(event_id)
            yield event_id


SCHEMA = strawberry.Schema(query=Query, subscription=Subscription)


def template() -> FedContext:
    """A socket's Context, as a group copies it for its run."""
    return FedContext(settings=Settings())


class Connection:
    """Stands in for a socket's handler: records the operations it must complete."""

    def __init__(self) -> None:
        self.socket = Socket()
        self.outbox = Outbox(self.socket, size=8)
        self.ended: list[Member] = []
        self.failed: list[Member] = []

    def group_ended(self, member: Member) -> None:
        self.ended.append(member)

    def resume_failed(self, member: Member) -> None:
        self.failed.append(member)

    def member(self, operation_id: str) -> Member:
        """A new operation of this connection, not yet live."""
        return Member(operation_id, self.outbox, self)
