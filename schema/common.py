"""Node helpers, connections, cursors and UserError shared by every domain."""

from __future__ import annotations

import base64
import binascii
from typing import Generic, TypeVar

import strawberry

from kimgraph.errors import InvalidArgumentError, InvalidCursorError

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

T = TypeVar("T")


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
