"""WebSocket protocol handling: server pings, shared subscriptions, slow consumers."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import weakref
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from kimgraph.context import Context
from kimgraph.events.fanout import StreamMode
from kimgraph.loaders import Loaders
from kimgraph.sharing import Group, Member, Outbox, Sharing, shape_of

PING_FRAME = '{"type":"ping"}'
# Sockets pinged per loop step: writes are synchronous now, so a ping round
# over ten thousand sockets would otherwise hold the loop for ~0.3 s.
PING_SLICE = 500


class Pinger:
    """One task for the whole process that pings every acknowledged socket.

    A task per socket would cost ~2 KB each on ten thousand idle boards.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.outboxes: weakref.WeakSet[Outbox] = weakref.WeakSet()
        self._task: asyncio.Task[None] | None = None

    def add(self, outbox: Outbox) -> None:
        self.outboxes.add(outbox)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="kimgraph-pings")

    def discard(self, outbox: Outbox) -> None:
        self.outboxes.discard(outbox)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            outboxes = list(self.outboxes)
            for start in range(0, len(outboxes), PING_SLICE):
                for outbox in outboxes[start : start + PING_SLICE]:
                    outbox.put(PING_FRAME)
                # Let an event's fan-out in between slices.
                await asyncio.sleep(0)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with pings, and identical subscriptions run once.

    Strawberry only answers pings; a village screen behind a NAT needs traffic
    both ways to keep its connection and to learn quickly that it is gone.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._outbox: Outbox | None = None
        # This socket's operations that run in a shared group.
        self.shared: dict[str, tuple[Group, Member]] = {}
        self._closing: set[asyncio.Task[None]] = set()

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        pinger = getattr(self.view, "pinger", None)
        if self.connection_acknowledged and isinstance(pinger, Pinger):
            pinger.add(self._outbox_for_socket())

    def _settings(self) -> Any:
        return getattr(self.view, "settings", None)

    def _sharing(self) -> Sharing | None:
        sharing = getattr(self.view, "sharing", None)
        return sharing if isinstance(sharing, Sharing) else None

    def _outbox_for_socket(self) -> Outbox:
        if self._outbox is None:
            adapter: Any = self.websocket

            async def send(frame: str) -> None:
                await adapter.ws.send_text(frame)

            async def close(code: int, reason: str) -> None:
                await self.websocket.close(code=code, reason=reason)

            size = int(getattr(self._settings(), "subscriber_queue_size", 256))
            self._outbox = Outbox(send, close, size)
        return self._outbox

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload = message["payload"]
        sharing = self._sharing()
        shape = (
            shape_of(
                payload["query"], payload.get("variables"), payload.get("operationName")
            )
            if sharing is not None
            else None
        )
        if (
            shape is None
            or sharing is None
            or not self.connection_acknowledged
            or message["id"] in self.operations
            or (
                self.max_subscriptions_per_connection is not None
                and len(self.operations) >= self.max_subscriptions_per_connection
            )
        ):
            # Strawberry's own path: it also answers every protocol violation.
            await super().handle_subscribe(message)
            return
        operation = Operation(
            self,
            message["id"],
            payload["query"],
            payload.get("variables"),
            payload.get("operationName"),
        )
        variables = dict(payload.get("variables") or {})
        after = (
            variables.pop(shape.after_variable, None) if shape.after_variable else None
        )

        def ended() -> None:
            self.shared.pop(operation.id, None)
            if operation.id in self.operations:
                task = asyncio.create_task(
                    operation.send_operation_message(
                        {"id": operation.id, "type": "complete"}
                    )
                )
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)

        member = Member(operation.id, self._outbox_for_socket(), ended)

        async def stream(context: Context) -> Any:
            return await self.schema.stream(
                operation.query,
                variable_values=variables,
                context_value=context,
                operation_name=operation.operation_name,
            )

        group = sharing.join(shape, self.context, member, stream)
        self.shared[operation.id] = (group, member)
        self.operations[operation.id] = operation
        operation.task = asyncio.create_task(
            self._join(operation, group, member, after is not None)
        )
        operation.task.add_done_callback(self._task_done)

    async def _join(
        self,
        operation: Operation[Context, None],
        group: Group,
        member: Member,
        resumes: bool,
    ) -> None:
        """Bring a member from its cursor to the group's live frames."""
        await group.following_or_ended()
        if group.ended:
            # The shared run could not start (bad arguments, say): run this one
            # alone, which reports the same error to this client.
            self._leave(operation.id)
            await self.run_operation(operation)
            return
        if not resumes:
            member.go_live(group.mode.last_event_id)
            return
        mode = StreamMode(replay_only=True)
        context = dataclasses.replace(self.context, loaders=Loaders(), stream_mode=mode)
        source = await self.schema.stream(
            operation.query,
            variable_values=operation.variables,
            context_value=context,
            operation_name=operation.operation_name,
        )
        async with contextlib.aclosing(source):
            await self._send_result_stream(operation, source)
        if not mode.completed or group.ended:
            # Replay failed (its error is sent) or the shared run is gone: the
            # client resubscribes with its cursor.
            self._leave(operation.id)
            await operation.send_operation_message(
                {"id": operation.id, "type": "complete"}
            )
            return
        member.go_live(mode.last_event_id)

    def _leave(self, operation_id: str) -> None:
        entry = self.shared.pop(operation_id, None)
        sharing = self._sharing()
        if entry is not None and sharing is not None:
            sharing.leave(*entry)

    async def cleanup_operation(self, operation_id: str) -> None:
        self._leave(operation_id)
        await super().cleanup_operation(operation_id)

    async def shutdown(self) -> None:
        await super().shutdown()
        if self._outbox is not None:
            pinger = getattr(self.view, "pinger", None)
            if isinstance(pinger, Pinger):
                pinger.discard(self._outbox)
            await self._outbox.close()
