"""Subscriptions over HTTP: graphql-sse (distinct connections) and Apollo multipart.

For networks whose proxies break WebSockets (docs/live-delivery.md,
"Subscriptions over HTTP"). Strawberry streams both itself (its SSETransport
and MultipartSubscriptionTransport); this module sets what KIMgraph needs of
them:

- only subscriptions stream: a query or mutation sent with a streaming Accept
  is refused with BAD_REQUEST (it is answered as JSON, under its deadline, by
  a plain POST);
- heartbeats: an SSE comment every 15 s, a multipart `{}` part every 5 s (the
  class attributes below, which tests shorten);
- a subscription's stream ends on its own only when its subscriber fell
  behind (resolvers.streams, kimgraph.live.hub): the client is then told so
  with a last SLOW_CONSUMER error, counted like a socket's 1013, and resumes
  with its last cursor;
- each open stream is counted in /metrics and against the per-address cap,
  like a socket (kimgraph.live.addresses).

The events themselves come from the hub as a socket's own operation's do:
replay after `after`, then live, deduplicated at the seam, the queue bounded.
"""

from __future__ import annotations

import asyncio
import logging
from asyncio import FIRST_COMPLETED
from collections.abc import AsyncGenerator, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from graphql import GraphQLError, GraphQLSyntaxError
from graphql import OperationType as AstType
from graphql.language import parse
from graphql.utilities import get_operation_ast
from starlette.types import Scope
from starlette.websockets import WebSocketState
from strawberry.http import GraphQLRequestData
from strawberry.http.streaming import (
    HTTPStreamTransport,
    MultipartSubscriptionTransport,
    SSETransport,
)
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types import ExecutionResult, SubscriptionExecutionResult
from strawberry.types.graphql import OperationType

from kimgraph.live.addresses import ConnectionsPerAddress
from kimgraph.live.connections import ConnectionRegistry
from kimgraph.live.slow_consumers import SlowConsumers

logger = logging.getLogger("kimgraph.live.http_streams")

PROTOCOLS = (GRAPHQL_SSE_PROTOCOL, MULTIPART_SUBSCRIPTION_PROTOCOL)

SLOW_CONSUMER_CODE = "SLOW_CONSUMER"
SLOW_CONSUMER_MESSAGE = (
    "The subscriber fell too far behind: subscribe again with `after` "
    "set to the last cursor received."
)
NOT_A_SUBSCRIPTION = (
    "Only subscriptions stream over HTTP: send queries and mutations "
    "with Accept: application/json."
)
SUBSCRIPTION_NEEDS_STREAM = (
    "A subscription over HTTP needs Accept: text/event-stream (graphql-sse) or "
    'multipart/mixed;subscriptionSpec="1.0" (Apollo multipart); '
    "or subscribe over the WebSocket."
)
AT_THE_CAP = "Too many open connections from this address: close one, or retry later."
# Seconds a stream refused at the per-address cap is told to wait (429).
RETRY_AT_THE_CAP = 30


# Above the schema's own token cap: a document refused there is refused by it.
_MAX_TOKENS = 10_000


def refuse_unless_subscription(request: GraphQLRequestData) -> str | None:
    """Why a streaming request cannot stream: NOT_A_SUBSCRIPTION, or None.

    Strawberry's stream would fail a query it may not run as an unexpected
    error; this answers 400 first. A document that does not parse, or names
    no operation it holds, is left to the schema, which reports it in the
    stream as it would in a JSON answer.
    """
    if request.protocol not in STREAMED or not isinstance(request.query, str):
        return None
    try:
        document = parse(request.query, no_location=True, max_tokens=_MAX_TOKENS)
    except GraphQLSyntaxError:
        return None
    operation = get_operation_ast(document, request.operation_name)
    if operation is None or operation.operation is AstType.SUBSCRIPTION:
        return None
    return NOT_A_SUBSCRIPTION


class SubscriptionsOnly:
    """A streaming transport that runs subscriptions and nothing else.

    By GET too (graphql-sse allows it, and a browser's EventSource can do
    nothing else): a subscription only reads.
    """

    def allowed_operation_types(
        self, allowed_operation_types: set[OperationType]
    ) -> Iterable[OperationType]:
        return (OperationType.SUBSCRIPTION,)


class ServerSentEvents(SubscriptionsOnly, SSETransport):
    """graphql-sse's distinct connections mode: `next` and `complete` events."""

    # Seconds between `: ping` comments, which keep proxies from timing out.
    heartbeat_interval: float = 15.0

    def __init__(self) -> None:
        super().__init__(type(self).heartbeat_interval)


class Multipart(SubscriptionsOnly, MultipartSubscriptionTransport):
    """Apollo's multipart subscriptions: boundary "graphql", `{"payload": …}` parts."""

    # Seconds between `{}` heartbeat parts (the protocol asks for 5).
    heartbeat_interval: float = 5.0


TRANSPORTS: Mapping[str, type[HTTPStreamTransport]] = {
    GRAPHQL_SSE_PROTOCOL: ServerSentEvents,
    MULTIPART_SUBSCRIPTION_PROTOCOL: Multipart,
}


def streaming_protocol(accept: str | None) -> str | None:
    """The HTTP streaming protocol an Accept header asks for, if any."""
    return next((p for p, t in _ACCEPTORS.items() if t.accepts(accept or "")), None)


_ACCEPTORS = {make.protocol: make() for make in TRANSPORTS.values()}
# A request's protocol as Strawberry names it: "sse", "multipart-subscription".
STREAMED = frozenset(_ACCEPTORS)


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
    if errors:
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
