"""Start-up checks and re-encryption, on the stored (still encrypted) values.

Every encrypted column is listed in SEALED: the start-up check, encryption of
values in clear and key rotation cover all of them, and nothing else needs to.

Raw SQL on purpose: the ORM would decrypt what these functions must see as
stored, and an encrypted filter value never equals a stored one (fresh nonce).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from kimgraph.aspirations import redaction
from kimgraph.pii import keys
from kimgraph.pii.fields import WEBHOOK_SECRET
from kimgraph.settings import Settings

logger = logging.getLogger("kimgraph.pii")

BATCH = 500


@dataclass(frozen=True, slots=True)
class Sealed:
    """A table's encrypted columns, each with its purpose (the associated data)."""

    table: str
    purposes: Mapping[str, str]
    # What `kimgraph pii` counts the rows as.
    noun: str
    # In committed batches (a big table), or all rows in one transaction.
    batched: bool

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.purposes)


REPORTERS = Sealed(
    "aspiration",
    {"reporter_name": "reporter_name", "reporter_contact": "reporter_contact"},
    "aspirations",
    batched=True,
)
# At most 100 rows (kimgraph.webhooks.endpoints.MAX_ENDPOINTS): all or none.
WEBHOOKS = Sealed(
    "webhook_endpoint", {"secret": WEBHOOK_SECRET}, "webhook secrets", batched=False
)
SEALED = (REPORTERS, WEBHOOKS)


def keyring_from(settings: Settings) -> keys.Keyring | None:
    """The keyring the settings describe; None without KIMGRAPH_SECRET_KEY."""
    if settings.secret_key is None:
        return None
    previous = [settings.secret_key_previous] if settings.secret_key_previous else []
    return keys.Keyring(settings.secret_key, previous)


def _connection() -> BaseDBAsyncClient:
    return Tortoise.get_connection("default")


def _marks(conn: BaseDBAsyncClient) -> Callable[[int], str]:
    """Parameter placeholders: $1 for asyncpg, ? for SQLite."""
    if conn.capabilities.dialect == "postgres":
        return lambda n: f"${n}"
    return lambda n: "?"


async def stored_key_ids() -> set[str]:
    """Ids of every key some stored value was encrypted with."""
    conn = _connection()
    start = len(keys.MARK) + 1
    selects = " UNION ".join(
        f"SELECT DISTINCT substr({column}, {start}, 8) AS kid FROM {sealed.table} "
        f"WHERE {column} LIKE '{keys.MARK}%'"
        for sealed in SEALED
        for column in sealed.columns
    )
    rows = await conn.execute_query_dict(selects)
    return {str(row["kid"]) for row in rows}


async def check(keyring: keys.Keyring | None) -> None:
    """PersonalDataKeyError unless the keyring can read every stored value."""
    stored = await stored_key_ids()
    if not stored:
        return
    if keyring is None:
        raise keys.PersonalDataKeyError(keys.NO_KEY_MESSAGE)
    unknown = sorted(stored - keyring.ids)
    if unknown:
        raise keys.PersonalDataKeyError(keys.unknown_key_message(unknown[0]))


async def reencrypt(
    keyring: keys.Keyring, *, only_clear: bool = False, batch: int = BATCH
) -> dict[str, int]:
    """Write every value not under the current key again under it; rows changed.

    Counted by what the rows are (`aspirations`, `webhook secrets`). Batches go
    in their own transactions, so an interrupted run keeps what it did and the
    next one (idempotent: it selects what is left) finishes the job. Each row
    is updated only if it still holds what was read: an erasure, a rotated
    webhook secret or a second run in between is never overwritten with older
    data.
    """
    changed = {
        sealed.noun: await _reencrypt(
            keyring, sealed, only_clear, batch if sealed.batched else None
        )
        for sealed in SEALED
    }
    if any(changed.values()):
        await scrub()
    return changed


async def _reencrypt(
    keyring: keys.Keyring, sealed: Sealed, only_clear: bool, batch: int | None
) -> int:
    conn = _connection()
    mark = _marks(conn)
    current = f"{keys.MARK}{keyring.current.id}:%"
    pending = " OR ".join(
        f"({column} IS NOT NULL AND {column} NOT LIKE "
        + (f"'{keys.MARK}%'" if only_clear else f"'{current}'")
        + ")"
        for column in sealed.columns
    )
    limit = f" LIMIT {int(batch)}" if batch is not None else ""
    select = (
        f"SELECT id, {', '.join(sealed.columns)} FROM {sealed.table} "
        f"WHERE id > {mark(1)} AND ({pending}) ORDER BY id{limit}"
    )
    count = len(sealed.columns)
    assignments = ", ".join(
        f"{column} = {mark(n)}" for n, column in enumerate(sealed.columns, 1)
    )
    unchanged = " AND ".join(
        f"COALESCE({column}, '') = {mark(count + 2 + n)}"
        for n, column in enumerate(sealed.columns)
    )
    update = (
        f"UPDATE {sealed.table} SET {assignments} "
        f"WHERE id = {mark(count + 1)} AND {unchanged}"
    )
    changed = 0
    after = 0
    while True:
        rows = await conn.execute_query_dict(select, [after])
        if not rows:
            return changed
        async with in_transaction() as tx:
            for row in rows:
                old: Sequence[str | None] = [row[column] for column in sealed.columns]
                new = [
                    _rewrapped(keyring, sealed.purposes[column], value)
                    for column, value in zip(sealed.columns, old, strict=True)
                ]
                written, _ = await tx.execute_query(
                    update, [*new, row["id"], *(value or "" for value in old)]
                )
                changed += 1 if written else 0
        if batch is None:
            return changed
        after = int(rows[-1]["id"])
        logger.debug("%s: %d rows written under the current key", sealed.noun, changed)


async def scrub() -> None:
    """Leave no old value in SQLite's write-ahead log (secure_delete zeroes the file).

    PostgreSQL keeps old row versions until VACUUM reclaims them; a dump never
    shows them (docs/privacy.md).
    """
    conn = _connection()
    if conn.capabilities.dialect == "sqlite":
        await conn.execute_query("PRAGMA wal_checkpoint(TRUNCATE)")


def _rewrapped(keyring: keys.Keyring, purpose: str, value: str | None) -> str | None:
    if value is None:
        return None
    if keys.key_id_of(value) == keyring.current.id:
        return value
    return keyring.encrypt(keyring.decrypt(value, purpose), purpose)


async def prepare(settings: Settings) -> None:
    """What a start needs: the process's keyring, checked against the data.

    With a secret, values still in clear (from before encryption, or written
    without a secret) are encrypted now; without one, the warning says so.
    """
    redaction.install()  # at debug level, no value in clear in the SQL log
    keyring = keyring_from(settings)
    keys.install(keyring)
    await check(keyring)
    if keyring is None:
        logger.warning(
            "KIMGRAPH_SECRET_KEY is unset: reporter names and contacts and webhook "
            "secrets are stored in clear (docs/privacy.md)"
        )
        return
    encrypted = await reencrypt(keyring, only_clear=True)
    if any(encrypted.values()):
        logger.info("encrypted what was stored in clear: %s", counted(encrypted))


def counted(changed: Mapping[str, int]) -> str:
    """`3 aspirations and 1 webhook secrets`: reencrypt's answer in words."""
    return " and ".join(f"{count} {noun}" for noun, count in changed.items())
