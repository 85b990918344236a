"""graphql-transport-ws: shared subscriptions, the init timeout.

Its view (kimgraph.live.view.LiveView) counts each address's sockets against
KIMGRAPH_WS_MAX_PER_ADDRESS and hands legacy graphql-ws sockets to
kimgraph.live.legacy.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Coroutine
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.schema.base import BaseSchema
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
from kimgraph.live.event_outages import close_try_again, until_failed
from kimgraph.live.group import Group
from kimgraph.live.member import Member, event_position, same_string
from kimgraph.live.outbox import Outbox, socket_outbox
from kimgraph.live.runs import ReplayOnly
from kimgraph.outage import CLOSE_TRY_AGAIN, DatabaseUnavailableError
from kimgraph.presence import board_connected

if TYPE_CHECKING:
    from kimgraph.live.view import LiveView

# Fire-and-forget sends (a final `complete`, a 4408 close), kept until done.
_BACKGROUND: set[asyncio.Task[None]] = set()


def _background(coroutine: Coroutine[Any, Any, None]) -> None:
    task = asyncio.create_task(coroutine)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


class SharedOperation(Operation[Context, None]):
    """An operation whose events come from a shared group while it is in one.

    It holds the group's query string and the group's variables rather than
    its own message's (ten thousand boards then hold one copy of them), and the
    cursor of a member the group catches up, in case it must replay on its
    own; only a member whose cursor is no event cursor keeps its own variables.
    """

    __slots__ = ("cursor", "group", "member")

    def __init__(
        self,
        handler: TransportWSHandler,
        operation_id: str,
        group: Group,
        member: Member,
        resume_variables: dict[str, Any] | None,
        cursor: str | None = None,
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
        # The cursor of a member the group catches up (one string object for
        # every board resuming from it), in case it must replay on its own.
        self.cursor = cursor

    def own_variables(self) -> dict[str, Any]:
        """The operation's variables as its client sent them, cursor included."""
        variables = dict(self.variables or {})
        after = self.group.shape.after_variable if self.group is not None else None
        if after is not None and self.cursor is not None:
            variables[after] = self.cursor
        return variables


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with pings, and identical subscriptions run once.

    Strawberry only answers pings; a village screen behind a NAT needs traffic
    both ways to keep its connection and to learn quickly that it is gone.
    """

    # For /metrics: connections of this process open now, and the `next`
    # messages sent by Strawberry's own path (operations that run alone, and
    # a member replaying on its own after its group could not catch it up);
    # shared runs count their own, catch-ups included.
    open_connections: ClassVar[int] = 0
    own_next_messages: ClassVar[int] = 0

    def __init__(
        self,
        view: LiveView,
        websocket: AsyncWebSocketAdapter,
        context: Context,
        root_value: None,
        schema: BaseSchema,
        connection_init_wait_timeout: timedelta,
        max_subscriptions_per_connection: int | None = None,
    ) -> None:
        # Strawberry makes the handler, passing the view: the view's live
        # dependencies are taken once, here, as this handler's own.
        super().__init__(
            view,
            websocket,
            context,
            root_value,
            schema,
            connection_init_wait_timeout,
            max_subscriptions_per_connection,
        )
        self.live = view.live
        self._outbox: Outbox | None = None
        self._init_timer: asyncio.TimerHandle | None = None
        # Closed with 1013 after an event could not be read: nothing more sent.
        self._trying_again = False

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
        try:
            await super().handle_connection_init(message)
        except DatabaseUnavailableError as exc:
            await self.websocket.close(CLOSE_TRY_AGAIN, str(exc))
            return
        if self.connection_acknowledged:
            self.live.pinger.add(self._outbox_for_socket())
            board_connected(self.context)  # kimgraph.presence

    def _outbox_for_socket(self) -> Outbox:
        if self._outbox is None:
            size = self.live.settings.subscriber_queue_size
            self._outbox = socket_outbox(self, size)
        return self._outbox

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload = message["payload"]
        sharing = self.live.sharing
        shape = sharing.shape(
            payload["query"],
            payload.get("variables"),
            payload.get("operationName"),
            self.context.principal,
        )
        if (
            shape is None
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
        cursor = (
            variables.get(shape.after_variable)
            if shape.after_variable is not None
            else None
        )
        resumes = cursor is not None
        after_id = event_position(cursor)
        operation_id = same_string(message["id"])
        member = Member(operation_id, self._outbox_for_socket(), self)
        group = sharing.join(shape, self.context, member)
        if after_id is not None:
            # The group catches it up, shared with every member resuming from
            # the same cursor: no task, no stream of its own.
            cursor = same_string(cursor)
            operation = SharedOperation(self, operation_id, group, member, None, cursor)
            self.operations[operation_id] = operation
            group.resume(member, cursor, after_id)
            return
        operation = SharedOperation(
            self, operation_id, group, member, variables if resumes else None
        )
        self.operations[operation_id] = operation
        if not resumes and group.following:
            # Nothing to replay and the run is live: join now, without a task.
            member.go_live(group.position)
            return
        operation.task = asyncio.create_task(
            self._join(operation, group, member, resumes)
        )
        operation.task.add_done_callback(self._task_done)

    async def send_message(self, message: Message) -> None:
        if self._trying_again:
            return  # closed with 1013: the client resumes from its cursor
        if message["type"] == "next":
            TransportWSHandler.own_next_messages += 1
        await super().send_message(message)

    async def _send_result_stream(
        self, operation: Operation[Context, None], result_source: Any
    ) -> None:
        """Strawberry's, except that an event that could not be read is not sent.

        The socket is closed with 1013 instead, and its client resumes from
        its last cursor (kimgraph.live.event_outages): a run of its own, and
        a member's own replay after its group could not catch it up.
        """
        failed: list[bool] = []
        await super()._send_result_stream(
            operation, until_failed(result_source, failed)
        )
        if failed and not self._trying_again:
            self._trying_again = True
            await close_try_again(self.websocket)

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

    def resume_failed(self, member: Member) -> None:
        """The group could not catch this member up: it replays on its own.

        As before sharing: an error (CURSOR_EXPIRED, a run that cannot start)
        reaches the client exactly as an unshared operation reports it.
        """
        operation = self.operations.get(member.operation_id)
        if (
            not isinstance(operation, SharedOperation)
            or operation.member is not member
            or operation.group is None
            or operation.task is not None
        ):
            return
        operation.variables = operation.own_variables()
        operation.task = asyncio.create_task(
            self._join(operation, operation.group, member, True)
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
            member.go_live(group.position)
            return
        replayed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        context = dataclasses.replace(
            self.context,
            stream_run=ReplayOnly(replayed.set_result),
        )
        source = await self.schema.stream(
            operation.query,
            variable_values=operation.variables,
            context_value=context,
            operation_name=operation.operation_name,
        )
        async with contextlib.aclosing(source):
            await self._send_result_stream(operation, source)
        if not replayed.done() or group.ended:
            # Replay failed (its error is sent) or the shared run is gone: the
            # client resubscribes with its cursor.
            self._leave(operation.id)
            await operation.send_operation_message(
                {"id": operation.id, "type": "complete"}
            )
            return
        member.go_live(replayed.result())

    def _leave(self, operation_id: str) -> None:
        operation = self.operations.get(operation_id)
        if isinstance(operation, SharedOperation) and operation.group is not None:
            self.live.sharing.leave(operation.group, operation.member)
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
            self.live.pinger.discard(self._outbox)
            await self._outbox.close()
