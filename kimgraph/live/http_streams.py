"""Subscriptions over HTTP: graphql-sse (distinct connections) and Apollo multipart.

For networks whose proxies break WebSockets (docs/live-delivery.md,
"Subscriptions over HTTP"). Strawberry streams both itself (its SSETransport
and MultipartSubscriptionTransport); this module and its transports
(kimgraph.live.http_transports) set what KIMgraph needs of them:

- only subscriptions stream: a query or mutation sent with a streaming Accept
  is refused with BAD_REQUEST (it is answered as JSON, under its deadline, by
  a plain POST);
- heartbeats: an SSE comment every 15 s, a multipart `{}` part every 5 s (the
  transports' class attributes, which tests shorten);
- a subscription's stream ends on its own only when its subscriber fell
  behind (resolvers.streams, kimgraph.live.hub, or a shared stream's queue):
  the client is then told so with a last SLOW_CONSUMER error, counted like a
  socket's 1013, and resumes with its last cursor; or when its shared run
  failed (it just completes, as a socket's operation does);
- each open stream is counted in /metrics and against the per-address cap,
  like a socket (kimgraph.live.addresses).

A subscription that may share a run (kimgraph.live.shape) joins the same
group as sockets (SharedStream): one execution and one JSON encoding per event
for all of them, resumed with `after` by the group's shared catch-up, the seam
deduplicated, at most KIMGRAPH_SUBSCRIBER_QUEUE_SIZE results waiting for the
reader. Any other subscription takes its events from the hub as a socket's own
operation does: replay after `after`, then live, the queue bounded.
"""

from __future__ import annotations

import asyncio
import logging
from asyncio import FIRST_COMPLETED
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from graphql import GraphQLError
from starlette.types import Scope
from starlette.websockets import WebSocketState
from strawberry.types import ExecutionResult, SubscriptionExecutionResult

from kimgraph.context import Context
from kimgraph.live.addresses import ConnectionsPerAddress
from kimgraph.live.connections import ConnectionRegistry
from kimgraph.live.http_transports import STREAMED, Encoded
from kimgraph.live.member import Member, event_position
from kimgraph.live.shape import Shape
from kimgraph.live.sharing import Sharing
from kimgraph.live.slow_consumers import SlowConsumers

logger = logging.getLogger("kimgraph.live.http_streams")

SLOW_CONSUMER_CODE = "SLOW_CONSUMER"
SLOW_CONSUMER_MESSAGE = (
    "The subscriber fell too far behind: subscribe again with `after` "
    "set to the last cursor received."
)
SUBSCRIPTION_NEEDS_STREAM = (
    "A subscription over HTTP needs Accept: text/event-stream (graphql-sse) or "
    'multipart/mixed;subscriptionSpec="1.0" (Apollo multipart); '
    "or subscribe over the WebSocket."
)
AT_THE_CAP = "Too many open connections from this address: close one, or retry later."
# Seconds a stream refused at the per-address cap is told to wait (429).
RETRY_AT_THE_CAP = 30


class OpenStreams:
    """Subscription streams open over HTTP in this process (for /metrics)."""

    count: ClassVar[dict[str, int]] = dict.fromkeys(STREAMED, 0)


@dataclass(frozen=True, slots=True)
class Admission:
    """One stream, counted as a connection for as long as its request lasts."""

    protocol: str
    addresses: ConnectionsPerAddress
    connections: ConnectionRegistry
    credential: tuple[str, int] | None

    @contextmanager
    def counted(self, scope: Scope) -> Iterator[bool]:
        """True while counted; False (nothing counted) if the address is at its cap.

        A signed-in stream is registered like a socket, so that revoking its
        credential ends it (SignedInStream); the request's state carries it
        to watched().
        """
        client = scope.get("client")
        key = self.addresses.open(client[0] if client else None)
        if key is None:
            logger.debug("refused an HTTP stream: its address is at the cap")
            yield False
            return
        OpenStreams.count[self.protocol] += 1
        signed_in = SignedInStream()
        if self.credential is not None:
            scope.setdefault("state", {})["signed_in_stream"] = signed_in
            self.connections.add(self.credential, signed_in)
        try:
            yield True
        finally:
            OpenStreams.count[self.protocol] -= 1
            self.addresses.release(key)
            if self.credential is not None:
                self.connections.discard(self.credential, signed_in)


class SignedInStream:
    """A signed-in stream as the connection registry sees a socket: closable.

    tokenRevoke and the periodic credential check close a credential's
    connections (kimgraph.live.connections); closing this one ends its stream
    with one last UNAUTHENTICATED result, then `complete`.
    """

    __slots__ = (
        "__weakref__",
        "_closed",
        "application_state",
        "client_state",
        "reason",
    )

    def __init__(self) -> None:
        self.client_state = WebSocketState.CONNECTED
        self.application_state = WebSocketState.CONNECTED
        self.reason = ""
        self._closed = asyncio.Event()

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.reason = reason or "The credential is no longer valid"
        self.client_state = self.application_state = WebSocketState.DISCONNECTED
        self._closed.set()

    async def closed(self) -> None:
        await self._closed.wait()


def watched(
    source: SubscriptionExecutionResult, signed_in: SignedInStream | None = None
) -> SubscriptionExecutionResult:
    """The subscription's results, then SLOW_CONSUMER if it ended on its own.

    Every error a subscription meets (a bad cursor, CURSOR_EXPIRED, an invalid
    document) is a result with errors, after which the stream ends; one that
    ends after data only was ended by the hub because its reader fell behind.
    A signed-in stream also ends once its credential is revoked.
    """
    return cast(SubscriptionExecutionResult, _watched(source, signed_in))


async def _watched(
    source: SubscriptionExecutionResult, signed_in: SignedInStream | None
) -> AsyncGenerator[Any, None]:
    errors = False
    results = _until_closed(source, signed_in) if signed_in else source
    try:
        async for result in results:
            errors = errors or bool(getattr(result, "errors", None))
            yield result
    finally:
        close = getattr(source, "aclose", None)
        if close is not None:
            await close()
    if signed_in is not None and signed_in.reason:
        revoked = GraphQLError(signed_in.reason, extensions={"code": "UNAUTHENTICATED"})
        yield ExecutionResult(data=None, errors=[revoked])
        return
    if errors or getattr(source, "completed", False):
        return
    SlowConsumers.closed += 1
    logger.info("ending a slow subscriber's HTTP stream")
    error = GraphQLError(SLOW_CONSUMER_MESSAGE, extensions={"code": SLOW_CONSUMER_CODE})
    yield ExecutionResult(data=None, errors=[error])


async def _until_closed(
    source: SubscriptionExecutionResult, signed_in: SignedInStream
) -> AsyncGenerator[Any, None]:
    """source's results until it ends or the stream is closed."""
    closed = asyncio.ensure_future(signed_in.closed())
    try:
        while True:
            following = asyncio.ensure_future(anext(source))
            await asyncio.wait((following, closed), return_when=FIRST_COMPLETED)
            if not following.done():
                following.cancel()
                await asyncio.gather(following, return_exceptions=True)
                return
            try:
                result = following.result()
            except StopAsyncIteration:
                return
            yield result
    finally:
        closed.cancel()


class _Queue:
    """An HTTP stream's bounded queue of encoded results (a group member's sink)."""

    __slots__ = ("_changed", "_frames", "_size", "overflowed")

    def __init__(self, size: int) -> None:
        self._frames: deque[str] = deque()
        self._size = size
        self._changed = asyncio.Event()
        self.overflowed = False

    @property
    def waiting(self) -> int:
        return len(self._frames)

    @property
    def size(self) -> int:
        return self._size

    def put(self, frame: str, wire: bytes | None = None) -> None:
        if self.overflowed:
            return
        if len(self._frames) >= self._size:
            SharedStream.overflows += 1
            self.give_up()
            return
        self._frames.append(frame)
        self._changed.set()

    def put_all(self, frames: list[str], wire: bytes | None) -> None:
        for frame in frames:
            self.put(frame)

    def give_up(self) -> None:
        self.overflowed = True
        self._frames.clear()
        self._changed.set()

    def try_again(self) -> None:
        # An event could not be read: the stream ends as a slow consumer's
        # does, whose last result tells the client to resume from its cursor.
        self.give_up()

    async def room(self) -> None:
        while self._frames and not self.overflowed:
            self._changed.clear()
            await self._changed.wait()

    def take(self) -> str | None:
        if not self._frames:
            return None
        frame = self._frames.popleft()
        self._changed.set()
        return frame

    async def changed(self) -> None:
        self._changed.clear()
        await self._changed.wait()


OwnStream = Callable[[], Awaitable[Any]]


class SharedStream:
    """An HTTP subscription served by a shared group, as Strawberry's stream.

    It yields results whose data is the group's encoding (Encoded). It ends
    when its reader lets more than the queue size wait (watched() then sends
    SLOW_CONSUMER), or when the shared run ends (`completed`: the client
    resubscribes with its cursor). If the group cannot serve it (its run
    cannot start, its catch-up reports CURSOR_EXPIRED), it runs Strawberry's
    own stream instead (`own`), which reports the error as before.
    """

    # For tests and diagnosis: streams whose reader let too many results wait.
    overflows: ClassVar[int] = 0

    def __init__(
        self,
        sharing: Sharing,
        shape: Shape,
        context: Context,
        cursor: str | None,
        own: OwnStream,
        queue_size: int,
    ) -> None:
        self._sharing = sharing
        self._shape = shape
        self._context = context
        self._cursor = cursor
        self._own = own
        self._queue = _Queue(queue_size)
        self._fallback = False
        self.completed = False
        self._results = self._run()

    def __aiter__(self) -> SharedStream:
        return self

    async def __anext__(self) -> Any:
        return await self._results.__anext__()

    async def aclose(self) -> None:
        await self._results.aclose()

    # The member's owner (kimgraph.live.member.Owner).

    def group_ended(self, member: Member) -> None:
        self.completed = True
        self._queue.give_up()

    def resume_failed(self, member: Member) -> None:
        self._fallback = True
        self._queue.give_up()

    async def _run(self) -> AsyncGenerator[Any, None]:
        member = Member("", self._queue, self, framed=False)
        group = self._sharing.join(self._shape, self._context, member)
        try:
            after_id = event_position(self._cursor)
            if after_id is not None:
                assert self._cursor is not None
                group.resume(member, self._cursor, after_id)
            else:
                await group.following_or_ended()
                if group.ended:
                    self._fallback = True
                else:
                    member.go_live(group.position)
            queue = self._queue
            while not self._fallback:
                frame = queue.take()
                if frame is not None:
                    yield ExecutionResult(data=Encoded(frame), errors=None)
                    continue
                if queue.overflowed:
                    break
                await queue.changed()
        finally:
            self._sharing.leave(group, member)
        if self._fallback and not self.completed:
            # As without sharing: Strawberry's own stream reports the error.
            source = await self._own()
            try:
                async for result in source:
                    yield result
            finally:
                close = getattr(source, "aclose", None)
                if close is not None:
                    await close()
