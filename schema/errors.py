"""How errors reach clients: a stable `extensions.code` on each, bugs masked."""

from __future__ import annotations

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from kimgraph.errors import (
    GRAPHQL_PARSE_FAILED,
    GRAPHQL_VALIDATION_FAILED,
    QUERY_TOO_COMPLEX,
    ApiError,
)

INTERNAL = "INTERNAL"

# The messages of Strawberry's depth, alias and token limiters and of
# graphql-core's token and introspection depth limits, which carry no code of
# their own (the cost limit in kimgraph.api sets its code itself).
_TOO_COMPLEX_MARKS = (
    "exceeds maximum operation depth",
    "aliases found. Allowed:",
    "Document contains more than",
    "Maximum introspection depth exceeded",
)


def is_unexpected(error: GraphQLError) -> bool:
    """True for a bug or an outage: an exception the API did not raise on purpose."""
    original = error.original_error
    return original is not None and not isinstance(original, ApiError | GraphQLError)


def error_code(error: GraphQLError) -> str:
    """The `extensions.code` a client sees for this error."""
    original = error.original_error
    if isinstance(original, ApiError):
        return original.code
    if is_unexpected(error):
        return INTERNAL
    if any(mark in error.message for mark in _TOO_COMPLEX_MARKS):
        return QUERY_TOO_COMPLEX
    if error.message.startswith("Syntax Error"):
        return GRAPHQL_PARSE_FAILED
    existing = (error.extensions or {}).get("code")
    return str(existing) if existing else GRAPHQL_VALIDATION_FAILED


def assign_code(error: GraphQLError) -> None:
    """Set the error's `extensions.code`, keeping any other extensions."""
    error.extensions = {**(error.extensions or {}), "code": error_code(error)}


class ApiErrors(MaskErrors):
    """Replace unexpected errors by a bare INTERNAL one; the log keeps the details."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": INTERNAL}
        # Never formatted: the live layer tells a lost database from a bug by it
        # (kimgraph.live.event_outages).
        masked.original_error = error.original_error
        return masked
