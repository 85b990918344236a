"""One access line per request, one per WebSocket, and the request metrics.

An operator follows one request through the log by its id: taken from the
client's (or the load balancer's) `X-Request-ID` when it is a sane token,
made otherwise, echoed in the response and carried by every line logged while
the request runs (kimgraph.logs.REQUEST_ID). The line names the GraphQL
operations (kimgraph.request_operations), their outcome and the caller's role,
never a token, a username, a variable or a query string (docs/operations.md,
"Logs and metrics").
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kimgraph.logs import REQUEST_ID
from kimgraph.request_operations import (
    EXCHANGE,
    OK,
    REFUSED,
    Exchange,
    Operation,
    document_name,
    safe_name,
)

logger = logging.getLogger("kimgraph.access")

HEADER = "x-request-id"
# A client's id is kept only if it cannot forge or break a line: bounded, and
# of the characters of UUIDs, ULIDs and the ids load balancers make.
SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

# Counted in every worker; with --workers N, prometheus_client's multiprocess
# mode adds the workers' counts up (kimgraph.live.metrics.render).
OPERATIONS = Counter(
    "kimgraph_graphql_operations",
    "GraphQL operations over HTTP by type and outcome (ok, user_error: a "
    "payload's userErrors, error: errors in the answer, refused: not run).",
    ["type", "outcome"],
    registry=None,
)
SECONDS = Histogram(
    "kimgraph_graphql_request_seconds",
    "Time to answer an HTTP request to /graphql (streams not included), by "
    "operation type (batch for a batch).",
    ["type"],
    registry=None,
)


def request_id(headers: Headers) -> str:
    """The client's X-Request-ID if it is sane, else a new one."""
    offered = headers.get(HEADER)
    if offered is not None and SANE_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


class RequestLog:
    """ASGI middleware: the request id, the access line and the request metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        rid = request_id(Headers(scope=scope))
        exchange = Exchange()
        id_token, exchange_token = REQUEST_ID.set(rid), EXCHANGE.set(exchange)
        # 500 if the app fails before it answers; 499 (nginx's "client closed
        # request") if it returns without answering: the client went away.
        status, page = 499, False
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status, page
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers.append(HEADER, rid)
                page = headers.get("content-type", "").startswith("text/html")
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except BaseException:
            if status == 499:
                status = 500
            raise
        finally:
            seconds = time.perf_counter() - started
            graphql = scope["path"] == "/graphql" and not page
            _account(scope, exchange, status, seconds, graphql=graphql)
            REQUEST_ID.reset(id_token)
            EXCHANGE.reset(exchange_token)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        rid = request_id(Headers(scope=scope))
        token = REQUEST_ID.set(rid)
        socket = _Socket(scope["path"], rid)
        try:
            await self.app(scope, socket.receiving(receive), socket.sending(send))
        finally:
            socket.log()
            REQUEST_ID.reset(token)


def _account(
    scope: Scope, exchange: Exchange, status: int, seconds: float, *, graphql: bool
) -> None:
    """The access line and, for GraphQL requests, the metrics of one request."""
    operations = exchange.operations
    graphql = graphql and scope["method"] != "OPTIONS"  # not a CORS preflight
    if graphql and not operations:
        # Not run by kimgraph.api: refused before it was read, a shared
        # subscription stream, or a query answered from the read cache.
        operations.append(
            Operation()
            if status >= 400
            else Operation("subscription" if _streams(scope) else "query")
        )
    if (400 <= status < 500 and status != 499) or status == 503:
        for operation in operations:
            # Whole-request refusals: too large, rate-limited, no database,
            # malformed or unauthenticated; nothing (more) ran.
            if operation.outcome == OK:
                operation.outcome = REFUSED
    kind = _kind(operations)
    principal = scope.get("state", {}).get("principal")
    role = _role(principal) if principal is not None else None
    described = (
        ""
        if not operations
        else str(operations[0])
        if len(operations) == 1
        else f"batch[{len(operations)}] " + ", ".join(map(str, operations))
    )
    client = scope.get("client")
    logger.info(
        '%s "%s %s HTTP/%s" %d %.1f ms%s%s',
        client[0] if client else "-",
        scope["method"],
        scope["path"],
        scope.get("http_version", "1.1"),
        status,
        seconds * 1000,
        f" {described}" if described else "",
        f" role={role}" if role else "",
        extra={
            "fields": {
                "kind": "http",
                "client": client[0] if client else None,
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
                "operations": [vars(o) for o in operations],
                "role": role,
            }
        },
    )
    if graphql:
        for operation in operations:
            OPERATIONS.labels(operation.type, operation.outcome).inc()
        if kind != "subscription":
            SECONDS.labels(kind).observe(seconds)


def _kind(operations: list[Operation]) -> str:
    if len(operations) > 1:
        return "batch"
    return operations[0].type if operations else "unknown"


def _role(principal: Any) -> str:
    role = getattr(principal, "role", None)
    return "anonymous" if role is None else str(getattr(role, "value", role))


def _streams(scope: Scope) -> bool:
    accept = Headers(scope=scope).get("accept", "")
    return "text/event-stream" in accept or "multipart/mixed" in accept


class _Socket:
    """What one WebSocket did: messages each way, its close code, its subscriptions."""

    def __init__(self, path: str, rid: str) -> None:
        self.path = path
        self.rid = rid
        self.started = time.perf_counter()
        self.received = 0
        self.sent = 0
        self.code: int | None = None
        self.accepted = False
        self.refused_status: int | None = None

    def receiving(self, receive: Receive) -> Receive:
        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "websocket.receive":
                self.received += 1
                _log_subscription_start(message.get("text"), self.path)
            elif message["type"] == "websocket.disconnect" and self.code is None:
                self.code = message.get("code", 1005)
            return message

        # Looked through by kimgraph.live.direct_write, which counts the frames
        # it writes past `send` through `tally` (Starlette wraps `send` in
        # closures of its own, but never `receive`).
        receiving.__wrapped__ = receive  # type: ignore[attr-defined]
        receiving.tally = self.tally  # type: ignore[attr-defined]
        return receiving

    def sending(self, send: Send) -> Send:
        async def sending(message: Message) -> None:
            kind = message["type"]
            if kind == "websocket.send":
                self.sent += 1
            elif kind == "websocket.accept":
                self.accepted = True
                headers = list(message.get("headers") or [])
                message = {
                    **message,
                    "headers": [*headers, (HEADER.encode(), self.rid.encode())],
                }
            elif kind == "websocket.close" and self.code is None:
                self.code = message.get("code", 1000)
            elif kind == "websocket.http.response.start":
                self.refused_status = message["status"]
            await send(message)

        return sending

    def tally(self, messages: int) -> None:
        """Messages sent past `send`, written straight to the transport."""
        self.sent += messages

    def log(self) -> None:
        seconds = time.perf_counter() - self.started
        if not self.accepted:
            status = self.refused_status or 403
            logger.info(
                '"WebSocket %s" refused %d',
                self.path,
                status,
                extra={
                    "fields": {"kind": "websocket", "path": self.path, "status": status}
                },
            )
            return
        code = self.code if self.code is not None else 1006
        logger.info(
            '"WebSocket %s" closed %d after %.1f s: %d messages in, %d out',
            self.path,
            code,
            seconds,
            self.received,
            self.sent,
            extra={
                "fields": {
                    "kind": "websocket",
                    "path": self.path,
                    "close_code": code,
                    "duration_ms": round(seconds * 1000, 1),
                    "messages_in": self.received,
                    "messages_out": self.sent,
                }
            },
        )


def _log_subscription_start(text: object, path: str) -> None:
    """A line for a subscribe (graphql-transport-ws) or start (graphql-ws) message."""
    if not isinstance(text, str) or not ('"subscribe"' in text or '"start"' in text):
        return
    try:  # any other shape: not a subscription, or one the handler refuses
        message = json.loads(text)
        if message["type"] not in ("subscribe", "start"):
            return
        query, given = (
            message["payload"].get("query"),
            message["payload"].get("operationName"),
        )
    except (ValueError, LookupError, TypeError, AttributeError):
        return
    name = safe_name(given) or document_name(query)
    logger.info(
        '"WebSocket %s" subscription %s started',
        path,
        name or "-",
        extra={
            "fields": {
                "kind": "subscription",
                "path": path,
                "operations": [{"type": "subscription", "name": name}],
            }
        },
    )
