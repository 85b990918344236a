"""One way to close a slow consumer, for operations run alone and shared runs alike."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

import pytest
from starlette.types import Message
from starlette.websockets import WebSocket

from kimgraph import models
from kimgraph.context import Context, Info
from kimgraph.events.log import EventRecord
from kimgraph.events.memory import MemoryBus
from kimgraph.live.hub import Hub
from kimgraph.live.slow_consumers import SlowConsumers, close_slow_consumer
from kimgraph.settings import Settings
from resolvers.streams import follow
from tests.kimgraph.live.sockets import Socket, until

SLOW_CONSUMER_CLOSE = {
    "type": "websocket.close",
    "code": 1013,
    "reason": "slow consumer",
}


@dataclass
class InfoStandIn:
    """All a stream reads of its resolver's Info."""

    context: Context


class RecordingWebSocket(WebSocket):
    """Starlette's WebSocket, before accept, recording what the app sends."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        super().__init__(
            {"type": "websocket", "path": "/graphql"}, self._receive, self._send
        )

    async def _receive(self) -> Message:
        raise AssertionError("nothing is read here")

    async def _send(self, message: Message) -> None:
        self.sent.append(message)


async def nothing_to_prepare(events: Sequence[EventRecord]) -> Mapping[int, object]:
    return {}


async def test_closing_a_slow_consumer_closes_with_1013_and_counts_it() -> None:
    # given
    socket = Socket()
    before = SlowConsumers.closed
    # when
    await close_slow_consumer(socket)
    # then
    assert socket.closed == [(1013, "slow consumer")]
    assert SlowConsumers.closed == before + 1


async def test_an_operation_run_alone_that_falls_behind_is_closed_the_same_way(
    db: str,
) -> None:
    # given: an operation following a stream, with room for two waiting events,
    # that took one event and reads no more (the hub waits a moment for it)
    hub = Hub(MemoryBus(), {"a": nothing_to_prepare}, queue_size=2, patience=0.01)
    socket = RecordingWebSocket()
    context = Context(settings=Settings(), hub=hub, request=socket)
    events = follow(cast(Info, InfoStandIn(context)), "a", None, lambda event: True)
    first = asyncio.ensure_future(anext(events))
    await until(lambda: hub.subscriber_count == 1)
    await log_event(0)
    await hub.catch_up()
    assert (await asyncio.wait_for(first, 10)).event.entity_id == 0
    before = SlowConsumers.closed
    # when: three more events arrive and it takes none
    for n in range(1, 4):
        await log_event(n)
    await hub.catch_up()
    # then: its stream ends, its socket closed with 1013 once, and counted
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(events), 10)
    assert socket.sent == [SLOW_CONSUMER_CLOSE]
    assert SlowConsumers.closed == before + 1
    assert hub.subscriber_count == 0


async def log_event(entity_id: int) -> None:
    await models.Event.create(
        stream="a",
        kind="PUBLISHED",
        entity_id=entity_id,
        regions="61.04",
        occurred_at=datetime(2026, 11, 28, 1, 0, tzinfo=UTC),
    )
