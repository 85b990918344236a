"""Idempotency-Key: a mutation sent again over HTTP is applied once.

A client that sent a mutation with an `Idempotency-Key` header and got no
answer (a timeout, a dropped connection, a 5xx) sends the same request with
the same key again. The key, scoped to the caller, and a hash of the request
are written in the transaction of the change itself (when it logs its first
event), so the key's row exists exactly when the change committed; the
answer is stored beside it once made. A retry gets that answer again, or, if
the process died between commit and answer, APPLIED_WITHOUT_ANSWER naming
what was applied. docs/http.md, "Retrying mutations", has the rules.

Without a key, a command whose transaction committed but then failed (the
connection lost while returned to its pool) answers APPLIED_WITHOUT_ANSWER,
not INTERNAL: the client is told the truth and does not publish twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connections
from tortoise.exceptions import IntegrityError
from tortoise.signals import post_save

from kimgraph import models, outage
from kimgraph.accounts.principals import Principal
from kimgraph.clock import Clock
from kimgraph.cursors import encode_event_cursor, encode_id
from kimgraph.errors import ApiError
from kimgraph.events.bus import Doorbell
from kimgraph.graphql_http import GRAPHQL_RESPONSE_JSON, errors_only, refused
from kimgraph.logs import describe
from kimgraph.rate_limit import client_key

logger = logging.getLogger("kimgraph.idempotency")

HEADER = "idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_FOR = timedelta(hours=24)
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
BAD_KEY = "Idempotency-Key must be 1-255 printable ASCII characters without spaces"
KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
KEY_IN_USE = "IDEMPOTENCY_KEY_IN_USE"
APPLIED_WITHOUT_ANSWER = "APPLIED_WITHOUT_ANSWER"
APPLIED_MESSAGE = (
    "this request was applied, but its answer was lost; do not send it again: "
    "read the objects named in extensions.applied"
)
# The node type each event stream's entity ids name (kimgraph.cursors ids).
_NODE_TYPES = {"announcement": "Announcement", "aspiration": "Aspiration"}


class KeyInUseError(ApiError):
    """Another request with this key committed its change first."""

    code = KEY_IN_USE


class AppliedWithoutAnswerError(ApiError):
    """The change committed, but the server failed before it could answer."""

    code = APPLIED_WITHOUT_ANSWER


@dataclass(slots=True)
class Claim:
    """A keyed request being run; recorded with the first event it logs."""

    scope: str
    key: str
    request_hash: str
    now: datetime
    recorded: bool = False


_claim: ContextVar[Claim | None] = ContextVar("kimgraph_idempotency", default=None)
# The ids of the events the running command has logged, committed or not.
_logged: ContextVar[list[int] | None] = ContextVar("kimgraph_logged", default=None)


def _applied(event: models.Event) -> dict[str, str]:
    node_type = _NODE_TYPES.get(event.stream, event.stream)
    return {
        "id": encode_id(node_type, event.entity_id),
        "kind": event.kind,
        "eventCursor": encode_event_cursor(event.id),
    }


@post_save(models.Event)
async def _event_logged(
    sender: type[models.Event],
    instance: models.Event,
    created: bool,
    using_db: BaseDBAsyncClient | None,
    update_fields: list[str],
) -> None:
    """Record the running request's key in the transaction that logs an event.

    Every change that logs an event does so through kimgraph.events.log.append,
    inside its transaction: this is the one place that sees them all.
    """
    logged = _logged.get()
    if logged is not None and created:
        logged.append(instance.id)
    claim = _claim.get()
    if claim is None or not created:
        return
    keys = models.IdempotencyKey.filter(scope=claim.scope, key=claim.key)
    row = await keys.using_db(using_db).first()
    if row is not None and row.created_at <= claim.now - KEPT_FOR:
        await row.delete(using_db=using_db)
        row = None
    if row is None:
        expired = models.IdempotencyKey.filter(created_at__lte=claim.now - KEPT_FOR)
        await expired.using_db(using_db).delete()
        try:
            await models.IdempotencyKey.create(
                scope=claim.scope,
                key=claim.key,
                request_hash=claim.request_hash,
                applied=json.dumps([_applied(instance)]),
                created_at=claim.now,
                using_db=using_db,
            )
        except IntegrityError:
            raise _in_use() from None
        claim.recorded = True
        return
    if not claim.recorded:
        raise _in_use()
    row.applied = json.dumps([*json.loads(row.applied), _applied(instance)])
    await row.save(update_fields=["applied"], using_db=using_db)


def _in_use() -> KeyInUseError:
    return KeyInUseError(
        "another request with this Idempotency-Key was applied meanwhile; "
        "send it again to read its answer"
    )


@asynccontextmanager
async def applied_or_failed(doorbell: Doorbell) -> AsyncIterator[None]:
    """Run a command; an outage after its commit is APPLIED_WITHOUT_ANSWER.

    Returning a connection to its pool after COMMIT can fail (the connection
    lost); the change is then in the database and its events are logged, so
    the doorbell is rung here, and the client is told not to send it again.
    """
    logged: list[int] = []
    token = _logged.set(logged)
    task_connections = get_connections()._get_storage()
    try:
        yield
    except Exception as exc:
        # A transaction whose connection fails to go back to the pool raises
        # before Tortoise restores the task's own connection: restored here,
        # or every later query of this request would use the released one.
        get_connections()._set_storage(task_connections)
        if logged and outage.is_outage(exc) and await _committed(logged):
            logger.warning(
                "a change committed, then its connection failed (%s)", describe(exc)
            )
            await doorbell(max(logged))
            raise AppliedWithoutAnswerError(
                "the change was saved, but the server failed before it could "
                "answer: do not send it again; read it back (or retry with the "
                "same Idempotency-Key)"
            ) from exc
        raise
    finally:
        _logged.reset(token)


async def _committed(event_ids: list[int]) -> bool:
    try:
        return await models.Event.filter(id__in=event_ids).exists()
    except Exception as exc:  # the database is still away: nothing is known
        if not outage.is_outage(exc):
            raise
        return False


def scope_of(principal: Principal, scope: Scope) -> str:
    """Whose keys a request's key is among: its account, API key or address."""
    if principal.account_id is not None:
        return f"account:{principal.account_id}"
    if principal.api_key_id is not None:
        return f"api-key:{principal.api_key_id}"
    client = scope.get("client")
    return f"address:{client_key(client[0] if client else None)}"


def request_hash(scope: Scope, body: bytes) -> str:
    """SHA-256 of what makes two requests the same: method, query string, body."""
    digest = hashlib.sha256()
    for part in (scope["method"].encode(), scope.get("query_string", b""), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@contextmanager
def _claiming(claim: Claim) -> Iterator[None]:
    token = _claim.set(claim)
    try:
        yield
    finally:
        _claim.reset(token)


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a receive that hands it over once more."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    given = False

    async def again() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, again


class _Held:
    """An answer kept back until it is known whether to store it."""

    def __init__(self) -> None:
        self.started = False
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    def media_type(self) -> str:
        for name, value in self.headers:
            if name.lower() == b"content-type":
                return value.decode("latin-1")
        return "application/json"

    def has_errors(self) -> bool:
        try:
            return "errors" in json.loads(self.body)
        except ValueError:
            return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": self.headers,
            }
        )
        await send({"type": "http.response.body", "body": self.body})


Answer = Callable[[Scope, Receive, Send], Awaitable[None]]


async def answer_once(
    answer: Answer,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    key: str,
    principal: Principal,
    clock: Clock,
    graphql_response: bool,
) -> None:
    """Answer a request that carries an Idempotency-Key (docs/http.md)."""
    if not _KEY.fullmatch(key):
        await refused(BAD_KEY, 400, graphql_response)(scope, receive, send)
        return
    body, receive = await _read_body(receive)
    claim = Claim(
        scope_of(principal, scope), key, request_hash(scope, body), clock.now()
    )
    try:
        earlier = await _find(claim)
    except Exception as exc:
        if not outage.is_outage(exc):
            raise
        outage.unavailable(exc, "reading an Idempotency-Key")
        await _unavailable(graphql_response)(scope, receive, send)
        return
    if earlier is not None:
        await _earlier_answer(earlier, claim, graphql_response)(scope, receive, send)
        return
    held = _Held()
    with _claiming(claim):
        await answer(scope, receive, held.send)
    if claim.recorded:
        try:
            row = await _find(claim)  # None: its transaction rolled back
        except Exception as exc:
            if not outage.is_outage(exc):
                raise
            outage.unavailable(exc, "reading an Idempotency-Key back")
            if held.has_errors():
                # Applied or not is unknown; a retry with this key will know.
                await _unavailable(graphql_response)(scope, receive, send)
                return
            row = None  # an answer without errors: applied; it is not stored
        if row is not None and held.has_errors():
            # Committed, but the answer is an error: say what was applied.
            await _applied_answer(row, graphql_response)(scope, receive, send)
            return
        if row is not None:
            await _store(row, held)
    if held.started:  # else the client went away (kimgraph.disconnect)
        await held(scope, receive, send)


def _unavailable(graphql_response: bool) -> Response:
    """503 with Retry-After: the database did not answer; retry with the key."""
    response = refused(outage.MESSAGE, 503, graphql_response)
    response.headers["Retry-After"] = str(outage.RETRY_AFTER_SECONDS)
    return response


async def _find(claim: Claim) -> models.IdempotencyKey | None:
    return await models.IdempotencyKey.filter(
        scope=claim.scope, key=claim.key, created_at__gt=claim.now - KEPT_FOR
    ).first()


async def _store(row: models.IdempotencyKey, held: _Held) -> None:
    try:
        await models.IdempotencyKey.filter(id=row.id, answer=None).update(
            status=held.status,
            answer=json.dumps(
                {"mediaType": held.media_type(), "body": held.body.decode()}
            ),
        )
    except Exception as exc:  # the answer goes out anyway; a retry learns less
        if not outage.is_outage(exc):
            raise
        logger.warning("an answer could not be stored (%s)", describe(exc))


def _earlier_answer(
    row: models.IdempotencyKey, claim: Claim, graphql_response: bool
) -> Response:
    if row.request_hash != claim.request_hash:
        message = "this Idempotency-Key was used for another request"
        return errors_only(message, KEY_REUSED, 422, graphql_response)
    if row.answer is None or row.status is None:
        return _applied_answer(row, graphql_response)
    stored: dict[str, Any] = json.loads(row.answer)
    response = Response(
        stored["body"], status_code=row.status, media_type=stored["mediaType"]
    )
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _applied_answer(row: models.IdempotencyKey, graphql_response: bool) -> Response:
    """The change committed but its answer is lost: what it applied."""
    error = {
        "message": APPLIED_MESSAGE,
        "extensions": {
            "code": APPLIED_WITHOUT_ANSWER,
            "applied": json.loads(row.applied),
        },
    }
    if graphql_response:
        return JSONResponse({"errors": [error]}, media_type=GRAPHQL_RESPONSE_JSON)
    return JSONResponse({"data": None, "errors": [error]})
