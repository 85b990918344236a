"""The outbox: events logged with their change, rung after commit, read back, pruned."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.functions import Max
from tortoise.transactions import in_transaction

from kimgraph import models
from kimgraph.cursors import encode_event_cursor
from kimgraph.errors import ApiError
from kimgraph.events.bus import Doorbell
from kimgraph.regions.codes import is_within
from kimgraph.statements import default_connection

# Held per transaction on PostgreSQL so that event ids are assigned in commit
# order: a serial id taken by a transaction that commits later would let a
# resuming reader skip it.
EVENT_LOCK_KEY = 0x4B494D  # "KIM"


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
        return encode_event_cursor(self.id)

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


def visible_from(
    event_regions: Sequence[str], region: str, include_descendants: bool
) -> bool:
    """Whether an event about these regions shows at region (and below, if asked)."""
    return any(
        is_within(region, target) or (include_descendants and is_within(target, region))
        for target in event_regions
    )


class Transaction:
    """A database transaction that logs events; only transaction() makes one."""

    __slots__ = ("conn", "newest")

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self.conn = conn
        # The highest event id appended so far: what the doorbell is rung with.
        self.newest: int | None = None


@asynccontextmanager
async def transaction(doorbell: Doorbell) -> AsyncIterator[Transaction]:
    """A transaction that rings doorbell once it commits, if it appended events.

    Rung once, with the highest id appended; a rollback rings nothing. Events can
    only be appended in one of these, so no change can commit without its ring.
    """
    if isinstance(Tortoise.get_connection("default"), TransactionalDBClient):
        # Inside another transaction, "after the commit" would come before the
        # real one, and a reader woken then would not see the events yet.
        raise RuntimeError("log.transaction() cannot run inside another transaction")
    async with in_transaction() as conn:
        tx = Transaction(conn)
        yield tx
    if tx.newest is not None:
        await doorbell(tx.newest)


async def append(
    tx: Transaction,
    *,
    stream: str,
    kind: str,
    entity_id: int,
    regions: Sequence[str],
    occurred_at: datetime,
) -> EventRecord:
    """Log a change in the transaction that makes it; tx rings after its commit."""
    conn = tx.conn
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
    tx.newest = max(row.id, tx.newest or 0)
    return EventRecord.from_model(row)


# The two columns position_of() reads, for a statement that reads the position
# with other things (kimgraph.announcements.queries.board_page) and for position().
POSITION_COLUMNS = (
    "(SELECT MAX(id) FROM event) AS log_newest, "
    "(SELECT pruned_through FROM event_log_state WHERE id = 1) AS log_pruned"
)


def position_of(newest: int | None, pruned: int | None) -> int:
    """The position from POSITION_COLUMNS: the newest id, or what was pruned.

    A quiet region can see its whole log pruned: the position must not fall
    back below what was pruned, or every new cursor would be expired.
    """
    return max(int(newest or 0), int(pruned or 0))


async def position() -> int:
    """The id of the newest committed event, even if retention removed it."""
    _, rows = await default_connection().execute_query(f"SELECT {POSITION_COLUMNS}")
    return position_of(rows[0][0], rows[0][1])


async def check_cursor(event_id: int) -> None:
    """CursorExpiredError if retention removed events right after event_id.

    A cursor past the newest event is refused the same way: this log never
    handed it out (the database was restored from an older backup, say), and
    new events would reuse its ids, so following it would skip them silently
    (docs/operations.md, "Backups").
    """
    state = await models.EventLogState.get_or_none(id=1)
    if state is not None and event_id < state.pruned_through:
        raise CursorExpiredError(
            "this cursor is older than the event log keeps; refetch, then "
            "subscribe with the new eventCursor"
        )
    if event_id > await position():
        raise CursorExpiredError(
            "this cursor is newer than the event log (was the database "
            "restored?); refetch, then subscribe with the new eventCursor"
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
