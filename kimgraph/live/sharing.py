"""One execution per event for many identical subscriptions, one encoding per event.

Boards of one desa send the same `announcementEvents` document with the same
variables. Executing and serialising it once per socket costs ~9x a bare
broadcast (PERFORMANCE.md); here a Group runs it once, encodes the payload once,
and each member gets the frame with its own operation id spliced in. A member
that resumes with `after` first replays the log on its own, buffering the group's
frames meanwhile, and joins at the seam: events are deduplicated by id.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from asyncio import FIRST_COMPLETED
from collections import deque
from collections.abc import Coroutine, Generator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar, Protocol

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    parse,
    visit,
)
from graphql.language import Visitor
from starlette.websockets import WebSocketDisconnect
from strawberry.schema.base import BaseSchema
from strawberry.types import ExecutionResult

from kimgraph.accounts.principals import ANONYMOUS
from kimgraph.context import Context
from kimgraph.live.direct_write import text_frame
from kimgraph.live.hub import StreamMode
from kimgraph.live.stats import FanOutStats
from kimgraph.loaders import Loaders

logger = logging.getLogger("kimgraph.live.sharing")

SHARED_FIELDS = frozenset({"announcementEvents"})
# Frames a connection may have waiting before it counts as a slow consumer.
OUTBOX_SIZE = 256
CLOSE_SLOW_CONSUMER = 1013
# What a send to a socket that has gone raises (uvicorn, Starlette).
SOCKET_GONE = (OSError, RuntimeError, WebSocketDisconnect)


@dataclass(frozen=True, slots=True)
class Shape:
    """What makes two subscriptions share: all but the `after` cursor."""

    key: str
    after_variable: str | None
    query: str
    # The variables without the cursor (read-only: members share the dict).
    variables: dict[str, Any]
    operation_name: str | None


@lru_cache(maxsize=1024)
def same_string(text: str) -> str:
    """One string object for equal short strings seen often (operation ids)."""
    return text


@lru_cache(maxsize=1024)
def _frame_prefix(operation_id: str) -> str:
    return '{"id":' + json.dumps(operation_id) + ',"type":"next",'


class _VariableUses(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        self.names.append(node.name.value)


@lru_cache(maxsize=512)
def _document(query: str) -> DocumentNode | None:
    try:
        return parse(query)
    except GraphQLError:
        return None


def shape_of(
    query: str, variables: dict[str, Any] | None, operation_name: str | None
) -> Shape | None:
    """The sharing key of a subscription, or None if it must run on its own."""
    document = _document(query)
    if document is None:
        return None
    operations = [
        d for d in document.definitions if isinstance(d, OperationDefinitionNode)
    ]
    if len(operations) != 1 or len(document.definitions) != 1:
        return None
    operation = operations[0]
    if operation.operation is not OperationType.SUBSCRIPTION or operation.directives:
        return None
    selections = operation.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        return None
    root = selections[0]
    if root.name.value not in SHARED_FIELDS or root.directives:
        return None
    after_variable = None
    for argument in root.arguments or ():
        if argument.name.value == "after":
            if not isinstance(argument.value, VariableNode):
                return None
            after_variable = argument.value.name.value
    uses = _VariableUses()
    visit(operation.selection_set, uses)
    if after_variable is not None and uses.names.count(after_variable) != 1:
        return None
    shared_variables = {
        k: v for k, v in (variables or {}).items() if k != after_variable
    }
    key = json.dumps(
        [query, operation_name, shared_variables], sort_keys=True, default=str
    )
    return Shape(key, after_variable, query, shared_variables, operation_name)


class Socket(Protocol):
    """Where an outbox writes: Starlette's WebSocket."""

    def send_text(self, data: str) -> Coroutine[Any, Any, None]: ...

    def close(self, code: int, reason: str) -> Coroutine[Any, Any, None]: ...


class Direct(Protocol):
    """Writes an encoded frame to the socket's transport now, if it may."""

    def write(self, data: bytes) -> bool: ...


class Owner(Protocol):
    """The connection a member belongs to."""

    def group_ended(self, member: Member) -> None:
        """The shared run ended (it failed): complete the member's operation."""


class _Suspended:
    """Awaiting this finishes a coroutine that was started by hand and suspended."""

    __slots__ = ("_coroutine", "_yielded")

    def __init__(self, coroutine: Coroutine[Any, Any, None], yielded: Any) -> None:
        self._coroutine = coroutine
        self._yielded = yielded

    def __await__(self) -> Generator[Any, Any, None]:
        coroutine, value = self._coroutine, self._yielded
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - cancellation too: pass it on
                try:
                    value = coroutine.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    value = coroutine.send(sent)
                except StopIteration:
                    return


class Outbox:
    """A connection's bounded queue of frames.

    A frame for a socket that is writable and has nothing queued is written at
    once, in the caller's step: its encoded bytes straight to the transport
    where that is allowed (kimgraph.direct_write), else through the ASGI send,
    whose coroutine is stepped by hand: uvicorn only suspends a send while the
    transport is paused, so it usually finishes without a task, a future or a
    loop wake-up. A send that does suspend is finished by a writer task, which
    then drains what queued up meanwhile; beyond `size` waiting frames the
    socket is closed with 1013. An idle socket holds no task and no queue.
    """

    __slots__ = (
        "_direct",
        "_frames",
        "_size",
        "_socket",
        "_writer",
        "closed",
        "overflowed",
    )

    # Sockets of this process closed with 1013 (for /metrics).
    slow_consumer_closes: ClassVar[int] = 0

    def __init__(
        self, socket: Socket, size: int = OUTBOX_SIZE, direct: Direct | None = None
    ) -> None:
        self._socket = socket
        self._direct = direct
        self._size = size
        # Only while a send is suspended (an empty deque costs ~600 bytes).
        self._frames: deque[str] | None = None
        self._writer: asyncio.Task[None] | None = None
        self.overflowed = False
        # The socket refused a send (it is gone): nothing more is written.
        self.closed = False

    @property
    def waiting(self) -> int:
        """Frames queued behind a send that has not finished."""
        return 0 if self._frames is None else len(self._frames)

    def put(self, frame: str, wire: bytes | None = None) -> None:
        """Write or queue a frame; a full queue closes the socket with 1013.

        `wire` is the frame already encoded as a WebSocket text frame.
        """
        if self.overflowed or self.closed:
            return
        if self._writer is None:
            if self._direct is not None and self._direct.write(
                text_frame(frame) if wire is None else wire
            ):
                return
            coroutine = self._socket.send_text(frame)
            try:
                yielded = coroutine.send(None)
            except StopIteration:
                return
            except SOCKET_GONE:  # its handler ends the connection
                self._refused()
                return
            self._frames = deque()
            self._writer = asyncio.create_task(self._finish(coroutine, yielded))
            return
        assert self._frames is not None
        if len(self._frames) >= self._size:
            self.overflowed = True
            Outbox.slow_consumer_closes += 1
            self._frames = None
            logger.info("closing a slow subscriber with 1013")
            self._writer.cancel()
            self._writer = asyncio.create_task(
                self._socket.close(CLOSE_SLOW_CONSUMER, "slow consumer")
            )
            return
        self._frames.append(frame)

    def _refused(self) -> None:
        self.closed = True
        self._frames = None
        logger.debug("a subscriber's socket refused a frame", exc_info=True)

    async def _finish(self, coroutine: Coroutine[Any, Any, None], yielded: Any) -> None:
        try:
            await _Suspended(coroutine, yielded)
            while self._frames:
                await self._socket.send_text(self._frames.popleft())
        except SOCKET_GONE:
            self._refused()
        finally:
            if not self.overflowed:
                self._writer = None
                self._frames = None

    async def close(self) -> None:
        """The connection ends: stop writing, but let a 1013 close go out.

        The application returning makes uvicorn close the transport, so a
        1013 still waiting for a paused transport would never reach the client
        (it would see the connection drop without a reason). It is waited for:
        the client reading, or uvicorn's keepalive timeout, ends that wait.
        """
        writer = self._writer
        if writer is None:
            return
        if not self.overflowed:
            writer.cancel()
        await asyncio.wait({writer})
        if not writer.cancelled() and writer.exception() is not None:
            logger.debug("closing a subscriber failed", exc_info=writer.exception())


@dataclass(eq=False, slots=True)
class Member:
    """One socket's operation in a group."""

    operation_id: str
    outbox: Outbox
    owner: Owner
    prefix: str = ""
    position: int = 0
    live: bool = False
    # Events that arrived while the member was still replaying.
    waiting: list[tuple[int, str]] | None = None

    def __post_init__(self) -> None:
        self.prefix = _frame_prefix(self.operation_id)

    def deliver(
        self,
        event_id: int,
        payload: str,
        frames: dict[str, tuple[str, bytes]],
    ) -> bool:
        """Send the event's frame, unless this member already had the event.

        `frames` lets members with the same operation id (boards all use the
        same one) share one frame, and its encoding, per event.
        """
        if not self.live:
            if self.waiting is None:
                self.waiting = []
            self.waiting.append((event_id, payload))
            return False
        if event_id <= self.position:
            return False
        self.position = event_id
        encoded = frames.get(self.prefix)
        if encoded is None:
            frame = self.prefix + '"payload":' + payload + "}"
            encoded = frames[self.prefix] = (frame, text_frame(frame))
        self.outbox.put(*encoded)
        return True

    def go_live(self, replayed_through: int) -> None:
        """Switch from replay to the group's frames, skipping what was replayed."""
        self.position = max(self.position, replayed_through)
        self.live = True
        waiting, self.waiting = self.waiting or [], None
        for event_id, payload in waiting:
            self.deliver(event_id, payload, {})


class Group:
    """One live execution of one subscription shape, fanned out to its members."""

    def __init__(
        self, shape: Shape, template: Context, schema: BaseSchema, stats: FanOutStats
    ) -> None:
        self.shape = shape
        self.members: set[Member] = set()
        self.mode = StreamMode(live_only=True)
        # Shared runs are public: nothing in them may depend on who asked.
        self.context = dataclasses.replace(
            template,
            loaders=Loaders(),
            stream_mode=self.mode,
            request=None,
            principal=ANONYMOUS,
        )
        self._schema = schema
        self.stats = stats
        self.task: asyncio.Task[None] | None = None

    @property
    def ended(self) -> bool:
        return self.task is not None and self.task.done()

    @property
    def following(self) -> bool:
        """The run is live: a new member can take the next event."""
        return self.mode.following.is_set() and not self.ended

    async def following_or_ended(self) -> None:
        """Wait until the run follows the hub (or has ended)."""
        assert self.task is not None
        waiter = asyncio.ensure_future(self.mode.following.wait())
        try:
            await asyncio.wait({waiter, self.task}, return_when=FIRST_COMPLETED)
        finally:
            waiter.cancel()

    async def run(self) -> None:
        try:
            results = await self._schema.stream(
                self.shape.query,
                variable_values=dict(self.shape.variables),
                context_value=self.context,
                operation_name=self.shape.operation_name,
            )
            async with contextlib.aclosing(results):
                async for result in results:
                    self._fan_out(result)
        except asyncio.CancelledError:
            raise
        except Exception:  # an unexpected failure ends the group; members resume
            logger.exception("shared subscription failed")

    def _fan_out(self, result: Any) -> None:
        if not isinstance(result, ExecutionResult) or not self.mode.following.is_set():
            return
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [error.formatted for error in result.errors]
        encoded = json.dumps(payload, separators=(",", ":"), default=str)
        event_id = self.mode.last_event_id
        frames: dict[str, tuple[str, bytes]] = {}
        started = time.perf_counter()
        delivered = 0
        for member in list(self.members):
            delivered += member.deliver(event_id, encoded, frames)
        self.stats.seconds.observe(time.perf_counter() - started)
        self.stats.events += 1
        self.stats.deliveries += delivered


class Sharing:
    """The groups of one process."""

    def __init__(self, schema: BaseSchema) -> None:
        self.schema = schema
        self.groups: dict[str, Group] = {}
        self.stats = FanOutStats()

    @property
    def member_count(self) -> int:
        """Operations that currently take their events from a shared run."""
        return sum(len(group.members) for group in self.groups.values())

    def join(self, shape: Shape, template: Context, member: Member) -> Group:
        """The running group of this shape (started if need be), member added."""
        group = self.groups.get(shape.key)
        if group is None or group.ended:
            group = Group(shape, template, self.schema, self.stats)
            self.groups[shape.key] = group
            group.task = asyncio.create_task(group.run())
            group.task.add_done_callback(lambda _: self._ended(group))
        group.members.add(member)
        return group

    def leave(self, group: Group, member: Member) -> None:
        group.members.discard(member)
        if not group.members and self.groups.get(group.shape.key) is group:
            del self.groups[group.shape.key]
            if group.task is not None:
                group.task.cancel()

    def _ended(self, group: Group) -> None:
        if self.groups.get(group.shape.key) is group:
            del self.groups[group.shape.key]
        # Members still joining notice the end themselves (see websocket._join).
        for member in list(group.members):
            if member.live:
                member.owner.group_ended(member)
        group.members.clear()
