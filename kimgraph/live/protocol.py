"""WebSocket protocol handling: server pings, shared subscriptions, slow consumers."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
from collections.abc import Coroutine
from typing import Any, ClassVar

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)

from kimgraph.context import Context
from kimgraph.live.direct_write import DirectWriter, text_frame
from kimgraph.live.hub import StreamMode
from kimgraph.live.sharing import Group, Member, Outbox, Sharing, same_string, shape_of
from kimgraph.loaders import Loaders

PING_FRAME = '{"type":"ping"}'
PING_WIRE = text_frame(PING_FRAME)
# Fire-and-forget sends (a final `complete`, a 4408 close), kept until done.
_BACKGROUND: set[asyncio.Task[None]] = set()
# Ticks per ping interval; each socket is pinged on one of them.
PING_SLOTS = 30


def _background(coroutine: Coroutine[Any, Any, None]) -> None:
    task = asyncio.create_task(coroutine)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


class Pinger:
    """One task for the whole process that pings every acknowledged socket.

    A task per socket would cost ~2 KB each on ten thousand idle boards. The
    sockets are spread over PING_SLOTS slots, pinged one slot per tick, so that
    each is pinged once per interval without a burst of ten thousand sends
    (and as many pongs) that an event's fan-out would have to wait behind.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        # Each handler takes its outbox out again when its socket ends.
        self._slots: list[set[Outbox]] = [set() for _ in range(PING_SLOTS)]
        self._added = 0
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return sum(len(slot) for slot in self._slots)

    def add(self, outbox: Outbox) -> None:
        self._slots[self._added % PING_SLOTS].add(outbox)
        self._added += 1
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="kimgraph-pings")

    def discard(self, outbox: Outbox) -> None:
        for slot in self._slots:
            slot.discard(outbox)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        step = self.interval / PING_SLOTS
        due = loop.time()
        for tick in itertools.count():
            # On a fixed schedule, so that the period never exceeds the interval.
            due += step
            await asyncio.sleep(max(0.0, due - loop.time()))
            for outbox in list(self._slots[tick % PING_SLOTS]):
                outbox.put(PING_FRAME, PING_WIRE)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class SharedOperation(Operation[Context, None]):
    """An operation whose events come from a shared group while it is in one.

    It holds the group's query string and, unless it resumes (then its own
    variables, with the cursor, are given), the group's variables rather than
    its own message's: ten thousand boards then hold one copy of them.
    """

    __slots__ = ("group", "member")

    def __init__(
        self,
        handler: TransportWSHandler,
        operation_id: str,
        group: Group,
        member: Member,
        resume_variables: dict[str, Any] | None,
    ) -> None:
        super().__init__(
            handler,
            operation_id,
            group.shape.query,
            resume_variables or group.shape.variables,
            group.shape.operation_name,
        )
        self.group: Group | None = group
        self.member = member


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with pings, and identical subscriptions run once.

    Strawberry only answers pings; a village screen behind a NAT needs traffic
    both ways to keep its connection and to learn quickly that it is gone.
    """

    # For /metrics: connections of this process open now, and the `next`
    # messages sent by Strawberry's own path (operations that run alone, and
    # the replay of a member that resumes); shared runs count their own.
    open_connections: ClassVar[int] = 0
    own_next_messages: ClassVar[int] = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._outbox: Outbox | None = None
        self._init_timer: asyncio.TimerHandle | None = None

    def on_request_accepted(self) -> None:
        # Strawberry's handle() calls this first and shutdown() last, once each.
        TransportWSHandler.open_connections += 1
        # A timer rather than Strawberry's sleeping task, which every idle
        # board would keep (cancelled, with its traceback) for its lifetime.
        self._init_timer = asyncio.get_running_loop().call_later(
            self.connection_init_wait_timeout.total_seconds(), self._init_timed_out
        )

    def _init_timed_out(self) -> None:
        self._init_timer = None
        if self.connection_init_received:
            return
        self.connection_timed_out = True
        _background(
            self.websocket.close(code=4408, reason="Connection initialisation timeout")
        )

    def _cancel_init_timer(self) -> None:
        if self._init_timer is not None:
            self._init_timer.cancel()
            self._init_timer = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        self._cancel_init_timer()
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
            size = int(getattr(self._settings(), "subscriber_queue_size", 256))
            self._outbox = Outbox(adapter.ws, size, DirectWriter.for_socket(adapter.ws))
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
        variables = payload.get("variables") or {}
        resumes = (
            shape.after_variable is not None
            and variables.get(shape.after_variable) is not None
        )
        operation_id = same_string(message["id"])
        member = Member(operation_id, self._outbox_for_socket(), self)
        group = sharing.join(shape, self.context, member)
        operation = SharedOperation(
            self, operation_id, group, member, variables if resumes else None
        )
        self.operations[operation_id] = operation
        if not resumes and group.following:
            # Nothing to replay and the run is live: join now, without a task.
            member.go_live(group.mode.last_event_id)
            return
        operation.task = asyncio.create_task(
            self._join(operation, group, member, resumes)
        )
        operation.task.add_done_callback(self._task_done)

    async def send_message(self, message: Message) -> None:
        if message["type"] == "next":
            TransportWSHandler.own_next_messages += 1
        await super().send_message(message)

    def group_ended(self, member: Member) -> None:
        """The shared run failed: complete the operation; the client resubscribes."""
        operation = self.operations.get(member.operation_id)
        if (
            not isinstance(operation, SharedOperation)
            or operation.member is not member
            or operation.group is None
        ):
            return
        operation.group = None
        _background(
            operation.send_operation_message({"id": operation.id, "type": "complete"})
        )

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
        operation = self.operations.get(operation_id)
        sharing = self._sharing()
        if (
            isinstance(operation, SharedOperation)
            and operation.group is not None
            and sharing is not None
        ):
            sharing.leave(operation.group, operation.member)
            operation.group = None

    async def cleanup_operation(self, operation_id: str) -> None:
        self._leave(operation_id)
        operation = self.operations.get(operation_id)
        if operation is not None and operation.task is None:
            # A member that joined without a task: leaving was all there was.
            del self.operations[operation_id]
            return
        await super().cleanup_operation(operation_id)

    async def shutdown(self) -> None:
        TransportWSHandler.open_connections -= 1
        self._cancel_init_timer()
        await super().shutdown()
        if self._outbox is not None:
            pinger = getattr(self.view, "pinger", None)
            if isinstance(pinger, Pinger):
                pinger.discard(self._outbox)
            await self._outbox.close()
