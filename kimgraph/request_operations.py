"""The GraphQL operations of a request, as its access line names and judges them.

kimgraph.api's Schema.execute begins an Operation for each operation it runs
(each of a batch too); NamesOperations gives it its type and name once the
document is read, and its answer settles its outcome: ok, user_error (a
payload's userErrors), error or refused. The request's Exchange lists them
for kimgraph.request_log. A name is logged only if it is a GraphQL name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from graphql import GraphQLError, parse
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from kimgraph.graphql_http import is_request_error

# An operation name as GraphQL spells one; anything else a client sends as
# operationName is free text and is not logged.
NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")
MAX_NAME_TOKENS = 5_000  # as kimgraph.api.MAX_TOKENS

OK, USER_ERROR, ERROR, REFUSED = "ok", "user_error", "error", "refused"


@dataclass
class Operation:
    """One GraphQL operation of a request, as its access line names it."""

    type: str = "unknown"
    name: str | None = None
    outcome: str = OK

    def settle(self, result: ExecutionResult) -> None:
        """The outcome, from the operation's answer."""
        if is_request_error(result):
            self.outcome = REFUSED
        elif result.errors:
            self.outcome = ERROR
        elif _has_user_errors(result.data):
            self.outcome = USER_ERROR
        else:
            self.outcome = OK

    def __str__(self) -> str:
        return f"{self.type}:{self.name or '-'} {self.outcome}"


@dataclass
class Exchange:
    """What one HTTP request did, filled in while it runs."""

    operations: list[Operation] = field(default_factory=list)


EXCHANGE: ContextVar[Exchange | None] = ContextVar("kimgraph_exchange", default=None)
_OPERATION: ContextVar[Operation | None] = ContextVar(
    "kimgraph_operation", default=None
)


def begin(operation_name: str | None) -> Operation:
    """The operation kimgraph.api's Schema.execute is about to run.

    Each operation of a batch runs in a task of its own, so each has its own
    _OPERATION; all are listed on the request's exchange.
    """
    operation = Operation(name=safe_name(operation_name))
    exchange = EXCHANGE.get()
    if exchange is not None:
        exchange.operations.append(operation)
    _OPERATION.set(operation)
    return operation


class NamesOperations(SchemaExtension):
    """Tells the current Operation its type and name once the document is read."""

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        finally:
            operation = _OPERATION.get()
            if operation is not None:
                context = self.execution_context
                try:
                    operation.type = context.operation_type.value
                except RuntimeError:  # no document, or no such operation in it
                    operation.type = "unknown"
                operation.name = safe_name(context.operation_name)


def safe_name(name: object) -> str | None:
    """The operation name if it is a GraphQL name, else None."""
    return name if isinstance(name, str) and NAME.fullmatch(name) else None


def _has_user_errors(data: object) -> bool:
    """True if a top-level payload (a mutation's) reports userErrors."""
    if not isinstance(data, dict):
        return False
    return any(
        isinstance(payload, dict) and bool(payload.get("userErrors"))
        for payload in data.values()
    )


def document_name(query: object) -> str | None:
    """The first operation's name in a document (None if it has none)."""
    if not isinstance(query, str):
        return None
    try:
        document = parse(query, no_location=True, max_tokens=MAX_NAME_TOKENS)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if hasattr(d, "operation")]
    name = getattr(operations[0], "name", None) if operations else None
    return safe_name(name.value) if name is not None else None
