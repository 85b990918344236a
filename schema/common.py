"""Node helpers, connections, cursors and UserError shared by every domain."""

from __future__ import annotations

import base64
import binascii
import enum
from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from strawberry.extensions.field_extension import (
    AsyncExtensionResolver,
    FieldExtension,
    SyncExtensionResolver,
)
from strawberry.types.field import StrawberryField

from kimgraph.errors import (
    InvalidArgumentError,
    InvalidCursorError,
    Problem,
    UserInputError,
)

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

T = TypeVar("T")

First = Annotated[
    int | None,
    strawberry.argument(description="Page size: default 20, at most 100."),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Return items after this cursor (an edge's `cursor` or "
        "`pageInfo.endCursor`)."
    ),
]


def encode_global_id(type_name: str, key: str) -> strawberry.ID:
    """The opaque `id` of a Node: base64 of "Type:key"."""
    raw = f"{type_name}:{key}".encode()
    return strawberry.ID(base64.urlsafe_b64encode(raw).decode().rstrip("="))


def decode_global_id(global_id: str) -> tuple[str, str] | None:
    """(type name, key) of an id made by encode_global_id; None if it is not one."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
    except (ValueError, binascii.Error, UnicodeError):
        return None
    type_name, sep, key = text.partition(":")
    if not sep or not type_name or not key:
        return None
    return type_name, key


def encode_cursor(kind: str, key: str) -> str:
    """An opaque keyset cursor."""
    return base64.urlsafe_b64encode(f"{kind}|{key}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None) -> str | None:
    """The key inside a cursor made by encode_cursor(kind, …); None for no cursor."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
    except (ValueError, binascii.Error, UnicodeError):
        text = ""
    found_kind, sep, key = text.partition("|")
    if not sep or found_kind != kind or not key:
        raise InvalidCursorError(
            f"{cursor!r} is not a cursor of this list; pass an endCursor or "
            "edge cursor it returned"
        )
    return key


def page_size(first: int | None) -> int:
    """`first` checked against the documented range."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise InvalidArgumentError(
            f"first must be between 0 and {MAX_PAGE_SIZE}, got {first}"
        )
    return first


@strawberry.interface(description="An object with a globally unique, opaque id.")
class Node:
    @strawberry.field(description="Opaque global id; pass it to `node(id:)`.")
    def id(self) -> strawberry.ID:
        raise NotImplementedError


@strawberry.type(description="Where a page of a connection sits in the whole list.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="True if more items follow this page."
    )
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last item of this page; pass it as `after`. "
        "Null when the page is empty."
    )


@strawberry.type(description="One item of a connection, with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list, in the Relay connection shape.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page sits.")
    total_count: int = strawberry.field(
        description="Number of items in the whole list, across all pages."
    )


@strawberry.enum(description="Machine-readable reason a mutation did not happen.")
class UserErrorCode(enum.Enum):
    INVALID = strawberry.enum_value(
        "INVALID", description="An input is malformed or breaks a rule."
    )
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND", description="A referenced object does not exist."
    )
    OUT_OF_SCOPE = strawberry.enum_value(
        "OUT_OF_SCOPE", description="The target lies outside the caller's region."
    )
    INVALID_TRANSITION = strawberry.enum_value(
        "INVALID_TRANSITION", description="The workflow does not allow this step."
    )
    CONFLICT = strawberry.enum_value(
        "CONFLICT", description="The object changed since the given revision."
    )
    RATE_LIMITED = strawberry.enum_value(
        "RATE_LIMITED", description="Too many requests; try again later."
    )
    INVALID_CREDENTIALS = strawberry.enum_value(
        "INVALID_CREDENTIALS", description="Wrong username or password."
    )


@strawberry.type(description="Why a mutation's input was refused; nothing changed.")
class UserError:
    field: list[str] | None = strawberry.field(
        description="Path to the offending input, e.g. ['input', 'name']; null when "
        "the whole input is at fault."
    )
    code: UserErrorCode = strawberry.field(description="Machine-readable reason.")
    message: str = strawberry.field(description="Human-readable explanation.")

    @classmethod
    def from_problem(cls, problem: Problem) -> UserError:
        """The GraphQL form of a domain problem."""
        return cls(
            field=problem.field,
            code=UserErrorCode(problem.code),
            message=problem.message,
        )


class UserErrors(FieldExtension):
    """Turn a UserInputError into the payload's userErrors, the object left null."""

    def apply(self, field: StrawberryField) -> None:
        self.field = field

    def resolve(
        self, next_: SyncExtensionResolver, source: Any, info: Any, **kwargs: Any
    ) -> Any:
        raise NotImplementedError("mutations with userErrors are async")

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Any, **kwargs: Any
    ) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except UserInputError as error:
            payload: Callable[..., Any] = self.field.type  # type: ignore[assignment]
            return payload(
                user_errors=[UserError.from_problem(p) for p in error.problems]
            )


def mutation(description: str) -> Any:
    """A mutation field whose domain errors become userErrors."""
    return strawberry.mutation(description=description, extensions=[UserErrors()])


def decode_id(type_name: str, global_id: str) -> int | None:
    """The integer key of a global id of this type; None if it is not one."""
    decoded = decode_global_id(global_id)
    if decoded is None or decoded[0] != type_name or not decoded[1].isdigit():
        return None
    return int(decoded[1])
