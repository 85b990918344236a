"""Start-up checks and re-encryption, on the stored (still encrypted) values.

Raw SQL on purpose: the ORM would decrypt what these functions must see as
stored, and an encrypted filter value never equals a stored one (fresh nonce).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from kimgraph.aspirations import redaction
from kimgraph.pii import keys
from kimgraph.settings import Settings

logger = logging.getLogger("kimgraph.pii")

COLUMNS = ("reporter_name", "reporter_contact")
BATCH = 500


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
        f"SELECT DISTINCT substr({column}, {start}, 8) AS kid FROM aspiration "
        f"WHERE {column} LIKE '{keys.MARK}%'"
        for column in COLUMNS
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
) -> int:
    """Write every value not under the current key again under it; rows changed.

    Batches in their own transactions, so an interrupted run keeps what it did
    and the next one (idempotent: it selects what is left) finishes the job.
    Each row is updated only if it still holds what was read: an erasure or a
    second run in between is never overwritten with older data.
    """
    conn = _connection()
    mark = _marks(conn)
    current = f"{keys.MARK}{keyring.current.id}:%"
    pending = " OR ".join(
        f"({column} IS NOT NULL AND {column} NOT LIKE "
        + (f"'{keys.MARK}%'" if only_clear else f"'{current}'")
        + ")"
        for column in COLUMNS
    )
    select = (
        f"SELECT id, {', '.join(COLUMNS)} FROM aspiration "
        f"WHERE id > {mark(1)} AND ({pending}) ORDER BY id LIMIT {int(batch)}"
    )
    update = (
        f"UPDATE aspiration SET reporter_name = {mark(1)}, "
        f"reporter_contact = {mark(2)} WHERE id = {mark(3)} "
        f"AND COALESCE(reporter_name, '') = {mark(4)} "
        f"AND COALESCE(reporter_contact, '') = {mark(5)}"
    )
    changed = 0
    after = 0
    while True:
        rows = await conn.execute_query_dict(select, [after])
        if not rows:
            if changed:
                await scrub()
            return changed
        async with in_transaction() as tx:
            for row in rows:
                old: Sequence[str | None] = [row[column] for column in COLUMNS]
                new = [
                    _rewrapped(keyring, c, v) for c, v in zip(COLUMNS, old, strict=True)
                ]
                count, _ = await tx.execute_query(
                    update, [*new, row["id"], *(value or "" for value in old)]
                )
                changed += 1 if count else 0
        after = int(rows[-1]["id"])
        logger.debug("personal data: %d rows written under the current key", changed)


async def scrub() -> None:
    """Leave no old value in SQLite's write-ahead log (secure_delete zeroes the file).

    PostgreSQL keeps old row versions until VACUUM reclaims them; a dump never
    shows them (docs/privacy.md).
    """
    conn = _connection()
    if conn.capabilities.dialect == "sqlite":
        await conn.execute_query("PRAGMA wal_checkpoint(TRUNCATE)")


def _rewrapped(keyring: keys.Keyring, column: str, value: str | None) -> str | None:
    if value is None:
        return None
    if keys.key_id_of(value) == keyring.current.id:
        return value
    return keyring.encrypt(keyring.decrypt(value, column), column)


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
            "KIMGRAPH_SECRET_KEY is unset: reporter names and contacts are stored "
            "in clear (docs/privacy.md)"
        )
        return
    encrypted = await reencrypt(keyring, only_clear=True)
    if encrypted:
        logger.info("encrypted the personal data of %d aspirations", encrypted)
