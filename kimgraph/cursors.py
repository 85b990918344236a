"""Global ids and cursors: opaque base64url text that clients hand back unread.

Every id, list cursor and event cursor the API gives out is made and read here.
Clients keep them (a board stores its eventCursor), so a format never changes.
"""

from __future__ import annotations

import base64
import binascii
import enum
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from kimgraph.errors import InvalidCursorError

T = TypeVar("T")

_EVENT_PREFIX = "ev:"


class CursorKind(enum.StrEnum):
    """Which list a keyset cursor belongs to; a cursor of one is refused by another."""

    REGION = "region"
    KIM = "kim"
    ANNOUNCEMENT = "ann"
    ASPIRATION = "asp"


def _wrap(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unwrap(token: str) -> str:
    """The text inside a token made by _wrap; "" if it is not one."""
    try:
        padded = token + "=" * (-len(token) % 4)
        return base64.urlsafe_b64decode(padded.encode("ascii")).decode()
    except (ValueError, binascii.Error, UnicodeError):
        return ""


def encode_id(type_name: str, key: object) -> str:
    """The global id of a node: "Type:key", opaque."""
    return _wrap(f"{type_name}:{key}")


def parse_id(global_id: str) -> tuple[str, str] | None:
    """(type name, key) of a global id; None if it is not one."""
    type_name, sep, key = _unwrap(global_id).partition(":")
    if not sep or not type_name or not key:
        return None
    return type_name, key


def decode_id(type_name: str, global_id: str) -> int | None:
    """The integer key of a global id of this type; None if it is not one."""
    parsed = parse_id(global_id)
    if parsed is None or parsed[0] != type_name or not parsed[1].isdecimal():
        return None
    return int(parsed[1])


def encode_cursor(kind: CursorKind, *key: object) -> str:
    """The keyset cursor of a row in a list of this kind: "kind|key|…", opaque."""
    return _wrap("|".join([kind, *map(_text, key)]))


def _text(part: object) -> str:
    return part.isoformat() if isinstance(part, datetime) else str(part)


def decode_cursor(
    kind: CursorKind, cursor: str | None, read: Callable[[str], T]
) -> T | None:
    """The key inside a cursor of this kind, as `read` makes it; None for no cursor.

    InvalidCursorError if it is not such a cursor: not base64url, of another
    list, or a key `read` refuses with ValueError.
    """
    if cursor is None:
        return None
    found_kind, sep, key = _unwrap(cursor).partition("|")
    try:
        if not sep or found_kind != kind or not key:
            raise ValueError(cursor)
        return read(key)
    except ValueError:
        raise InvalidCursorError(
            f"{cursor!r} is not a cursor of this list; pass an endCursor or "
            "edge cursor it returned"
        ) from None


def row_id(key: str) -> int:
    """A cursor key that is a row id (for decode_cursor)."""
    if not key.isdecimal():
        raise ValueError(key)
    return int(key)


def encode_event_cursor(event_id: int) -> str:
    """The cursor of a position in the event log."""
    return _wrap(f"{_EVENT_PREFIX}{event_id}")


def decode_event_cursor(cursor: str) -> int:
    """The position inside an event cursor; InvalidCursorError if it is not one."""
    text = _unwrap(cursor)
    number = text.removeprefix(_EVENT_PREFIX)
    if not text.startswith(_EVENT_PREFIX) or not number.isdecimal():
        raise InvalidCursorError(
            f"{cursor!r} is not an event cursor; pass an event's cursor or an "
            "eventCursor"
        )
    return int(number)
