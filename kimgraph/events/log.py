"""The outbox: events written with their change, read back by id, pruned by age."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.functions import Max

from kimgraph import models
from kimgraph.errors import ApiError, InvalidCursorError
from kimgraph.regions.codes import is_within

# Held per transaction on PostgreSQL so that event ids are assigned in commit
# order: a serial id taken by a transaction that commits later would let a
# resuming reader skip it.
EVENT_LOCK_KEY = 0x4B494D  # "KIM"
_CURSOR_PREFIX = "ev:"


class CursorExpiredError(ApiError):
    """The cursor points before what the log still keeps."""

    code = "CURSOR_EXPIRED"


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One logged change."""

    id: int
    stream: str
    kind: str
    entity_id: int
    regions: tuple[str, ...]
    occurred_at: datetime

    @property
    def cursor(self) -> str:
        return encode_cursor(self.id)

    @classmethod
    def from_model(cls, row: models.Event) -> EventRecord:
        return cls(
            id=row.id,
            stream=row.stream,
            kind=row.kind,
            entity_id=row.entity_id,
            regions=tuple(row.regions.split()),
            occurred_at=row.occurred_at,
        )


def encode_cursor(event_id: int) -> str:
    """The opaque cursor of a position in the log."""
    raw = f"{_CURSOR_PREFIX}{event_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The position inside a cursor; InvalidCursorError if it is not one."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeError):
        text = ""
    number = text.removeprefix(_CURSOR_PREFIX)
    if not text.startswith(_CURSOR_PREFIX) or not number.isdigit():
        raise InvalidCursorError(
            f"{cursor!r} is not an event cursor; pass an event's cursor or an "
            "eventCursor"
        )
    return int(number)


def visible_from(
    event_regions: Sequence[str], region: str, include_descendants: bool
) -> bool:
    """Whether an event about these regions shows at region (and below, if asked)."""
    return any(
        is_within(region, target) or (include_descendants and is_within(target, region))
        for target in event_regions
    )


async def append(
    conn: BaseDBAsyncClient,
    *,
    stream: str,
    kind: str,
    entity_id: int,
    regions: Sequence[str],
    occurred_at: datetime,
) -> EventRecord:
    """Log a change; call inside the transaction that makes it."""
    if conn.capabilities.dialect == "postgres":
        await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [EVENT_LOCK_KEY])
    row = await models.Event.create(
        stream=stream,
        kind=kind,
        entity_id=entity_id,
        regions=" ".join(sorted(set(regions))),
        occurred_at=occurred_at,
        using_db=conn,
    )
    return EventRecord.from_model(row)


async def position() -> int:
    """The id of the newest committed event, even if retention removed it."""
    result = await models.Event.all().annotate(top=Max("id")).values_list("top")
    newest = int(result[0][0] or 0) if result else 0
    # A quiet region can see its whole log pruned: the position must not fall
    # back below what was pruned, or every new cursor would be expired.
    state = await models.EventLogState.get_or_none(id=1)
    return max(newest, state.pruned_through if state is not None else 0)


async def check_cursor(event_id: int) -> None:
    """CursorExpiredError if retention removed events right after event_id."""
    state = await models.EventLogState.get_or_none(id=1)
    if state is not None and event_id < state.pruned_through:
        raise CursorExpiredError(
            "this cursor is older than the event log keeps; refetch, then "
            "subscribe with the new eventCursor"
        )


async def read_after(
    after_id: int, streams: Sequence[str], limit: int = 500
) -> list[EventRecord]:
    """Up to `limit` events of these streams after a position, oldest first."""
    rows = (
        await models.Event.filter(id__gt=after_id, stream__in=list(streams))
        .order_by("id")
        .limit(limit)
    )
    return [EventRecord.from_model(row) for row in rows]


async def prune(older_than: datetime) -> int:
    """Remove events that occurred before a time; how many went."""
    conn = Tortoise.get_connection("default")
    newest = (
        await models.Event.filter(occurred_at__lt=older_than)
        .annotate(top=Max("id"))
        .values_list("top")
    )
    through = int(newest[0][0] or 0) if newest else 0
    if through == 0:
        return 0
    deleted = await models.Event.filter(id__lte=through).delete()
    state, _ = await models.EventLogState.get_or_create(id=1, using_db=conn)
    if through > state.pruned_through:
        state.pruned_through = through
        await state.save(update_fields=["pruned_through"])
    return int(deleted)
