"""Errors the API reports to clients with a stable `extensions.code`."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import ClassVar

# The codes of errors raised by parsing and validation, before anything runs.
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"


class ApiError(Exception):
    """An expected failure whose message is safe to show; never masked."""

    code: ClassVar[str] = "BAD_REQUEST"


class InvalidArgumentError(ApiError):
    """An argument outside its documented range (e.g. `first` over 100)."""

    code = "INVALID_ARGUMENT"


class InvalidCursorError(ApiError):
    """An `after` cursor this server did not hand out."""

    code = "INVALID_CURSOR"


class NotFoundError(ApiError):
    """A well-formed reference to something that does not exist."""

    code = "NOT_FOUND"


class UnauthenticatedError(ApiError):
    """The operation needs a signed-in caller."""

    code = "UNAUTHENTICATED"


class ForbiddenError(ApiError):
    """The caller is signed in but may not do this."""

    code = "FORBIDDEN"


class QueryTimeoutError(ApiError):
    """The operation ran past KIMGRAPH_QUERY_TIMEOUT_SECONDS and was cancelled."""

    code = "QUERY_TIMEOUT"


class ProblemCode(enum.StrEnum):
    """Why a mutation's input was refused: the `code` of a userError."""

    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    OUT_OF_SCOPE = "OUT_OF_SCOPE"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    PASSWORD_CHANGE_REQUIRED = "PASSWORD_CHANGE_REQUIRED"


class Problem:
    """One reason a mutation's input was refused."""

    __slots__ = ("code", "field", "message")

    def __init__(
        self, code: ProblemCode, message: str, field: Sequence[str] | None
    ) -> None:
        self.code = code
        self.message = message
        self.field = list(field) if field is not None else None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Problem) and (
            self.code,
            self.message,
            self.field,
        ) == (other.code, other.message, other.field)

    def __hash__(self) -> int:
        return hash((self.code, self.message, tuple(self.field or ())))

    def __repr__(self) -> str:
        code = f"ProblemCode.{self.code.name}"
        return f"Problem({code}, {self.message!r}, {self.field!r})"


class UserInputError(Exception):
    """Bad input or a broken business rule; becomes the payload's userErrors."""

    def __init__(self, *problems: Problem) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)


def invalid(message: str, *field: str) -> UserInputError:
    """An input that breaks a rule (code INVALID)."""
    return UserInputError(Problem(ProblemCode.INVALID, message, field or None))


def not_found(message: str, *field: str) -> UserInputError:
    """A referenced object that does not exist (code NOT_FOUND)."""
    return UserInputError(Problem(ProblemCode.NOT_FOUND, message, field or None))


def out_of_scope(message: str, *field: str) -> UserInputError:
    """A target outside the caller's region (code OUT_OF_SCOPE)."""
    return UserInputError(Problem(ProblemCode.OUT_OF_SCOPE, message, field or None))
