"""Which HTTP streams KIMgraph offers, and the transports that write them.

graphql-sse (distinct connections) and Apollo multipart, on Strawberry's own
SSETransport and MultipartSubscriptionTransport (kimgraph.live.http_streams
says what a stream does): they run subscriptions only, send heartbeats at the
intervals below (which tests shorten), and write a group's encoded result
(Encoded) as is. Also here: the protocol an Accept header asks for, and the
refusal of a query or mutation sent to stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphql import GraphQLSyntaxError
from graphql import OperationType as AstType
from graphql.language import parse
from graphql.utilities import get_operation_ast
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
from strawberry.types.graphql import OperationType

PROTOCOLS = (GRAPHQL_SSE_PROTOCOL, MULTIPART_SUBSCRIPTION_PROTOCOL)

NOT_A_SUBSCRIPTION = (
    "Only subscriptions stream over HTTP: send queries and mutations "
    "with Accept: application/json."
)

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


class Encoded(dict[str, object]):
    """A result a group has already encoded: its transport writes `json` as is.

    Strawberry makes {"data": <this>} of it; encode_next below takes the
    group's encoding instead of encoding the result again, once per stream.
    """

    __slots__ = ("json",)

    def __init__(self, json: str) -> None:
        super().__init__()
        self.json = json


def _encoded(response: Mapping[str, object]) -> str | None:
    data = response.get("data")
    return data.json if isinstance(data, Encoded) else None


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

    def encode_next(self, response: Any, encode_json: Any) -> str:
        encoded = _encoded(response)
        if encoded is None:
            return super().encode_next(response, encode_json)
        return self.encode_event("next", encoded)


class Multipart(SubscriptionsOnly, MultipartSubscriptionTransport):
    """Apollo's multipart subscriptions: boundary "graphql", `{"payload": …}` parts."""

    # Seconds between `{}` heartbeat parts (the protocol asks for 5).
    heartbeat_interval: float = 5.0

    def encode_next(self, response: Any, encode_json: Any) -> str:
        encoded = _encoded(response)
        if encoded is None:
            return super().encode_next(response, encode_json)
        return self.encode_multipart_data(
            {"payload": response}, lambda _: '{"payload":' + encoded + "}"
        )


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
