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

# The largest key each kind of column holds, on every backend: rows have
# 32-bit ids (IntField: PostgreSQL's integer), the event log 64-bit ones. A
# larger number names nothing, and PostgreSQL (or SQLite, past 64 bits)
# refuses to compare a column with it.
MAX_ROW_ID = 2**31 - 1
MAX_EVENT_ID = 2**63 - 1


class CursorKind(enum.StrEnum):
    """Which list a keyset cursor belongs to; a cursor of one is refused by another."""

    REGION = "region"
    KIM = "kim"
    ANNOUNCEMENT = "ann"
    ASPIRATION = "asp"
    WARNING_REVIEW = "wrv"
    ACCOUNT = "acct"
    WEBHOOK_DELIVERY = "whd"
    BOARD = "brd"
    AUDIT = "audit"
    UNIT = "unit"


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


def _number(text: str, maximum: int) -> int | None:
    """The number written in ASCII digits, if at most maximum; None otherwise."""
    # isdecimal() alone also passes other scripts' digits, which no key has;
    # the length check spares int() a string too long to convert.
    if not (text.isascii() and text.isdecimal()) or len(text) > len(str(maximum)):
        return None
    number = int(text)
    return number if number <= maximum else None


def key_id(key: str) -> int | None:
    """The row id a global id's key names; None if it names no row."""
    return _number(key, MAX_ROW_ID)


def decode_id(type_name: str, global_id: str) -> int | None:
    """The integer key of a global id of this type; None if it is not one."""
    parsed = parse_id(global_id)
    if parsed is None or parsed[0] != type_name:
        return None
    return key_id(parsed[1])


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
    number = key_id(key)
    if number is None:
        raise ValueError(key)
    return number


def encode_event_cursor(event_id: int) -> str:
    """The cursor of a position in the event log."""
    return _wrap(f"{_EVENT_PREFIX}{event_id}")


def decode_event_cursor(cursor: str) -> int:
    """The position inside an event cursor; InvalidCursorError if it is not one."""
    text = _unwrap(cursor)
    number = _number(text.removeprefix(_EVENT_PREFIX), MAX_EVENT_ID)
    if not text.startswith(_EVENT_PREFIX) or number is None:
        raise InvalidCursorError(
            f"{cursor!r} is not an event cursor; pass an event's cursor or an "
            "eventCursor"
        )
    return number
