"""Tortoise configuration (also read by the `tortoise` command), init and close."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from tortoise import Tortoise
from tortoise.backends.base.client import TransactionContextPooled
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.sqlite.client import SqliteTransactionContext
from tortoise.connection import get_connections
from tortoise.migrations.api import migrate as run_migrations

from kimgraph.setting_values import DEFAULT_DATABASE_URL, SettingsError

T = TypeVar("T")

MODEL_MODULES = ["kimgraph.models"]
MIGRATIONS_MODULE = "kimgraph.migrations"

_SQLITE_PRAGMAS = {
    "journal_mode": "WAL",
    "foreign_keys": "ON",
    "synchronous": "NORMAL",
    "busy_timeout": 5000,
    # Deleted and overwritten content is zeroed, not left in free space: an
    # erased or newly encrypted reporter name stays nowhere (docs/privacy.md).
    "secure_delete": "ON",
}


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise config dict for a database URL (sqlite://FILE or postgres://…)."""
    connection = expand_db_url(database_url)
    if connection["engine"] == "tortoise.backends.sqlite":
        for pragma, value in _SQLITE_PRAGMAS.items():
            connection["credentials"].setdefault(pragma, value)
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def __getattr__(name: str) -> Any:
    """TORTOISE_ORM, read by `tortoise -c kimgraph.db.TORTOISE_ORM makemigrations`.

    Made when asked, never at import: a malformed KIMGRAPH_DATABASE_URL must
    reach the CLI's one-line message, not fail `import kimgraph.cli`.
    """
    if name == "TORTOISE_ORM":
        return tortoise_config(
            os.environ.get("KIMGRAPH_DATABASE_URL") or DEFAULT_DATABASE_URL
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check_sqlite_folder(database_url: str) -> None:
    """SettingsError unless a SQLite file's folder exists and is writable.

    Tortoise 1.1.9 hangs instead of failing when SQLite cannot open its file.
    """
    connection = expand_db_url(database_url)
    if connection["engine"] != "tortoise.backends.sqlite":
        return
    file_path = str(connection["credentials"]["file_path"])
    if file_path == ":memory:":
        return
    folder = Path(file_path).resolve().parent
    if not folder.is_dir():
        raise SettingsError(f"the database folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SettingsError(f"the database folder {folder} is not writable")


async def migrate(database_url: str) -> None:
    """Bring the database's schema up to the latest committed migration."""
    check_sqlite_folder(database_url)
    await run_migrations(config=tortoise_config(database_url))
    await Tortoise.close_connections()


async def init(database_url: str, *, create_db: bool = False) -> None:
    """Open the connections; usable from every task of the process."""
    check_sqlite_folder(database_url)
    # Tortoise 1.x keeps its state in a ContextVar; uvicorn runs the lifespan in
    # another task than the requests, so the global fallback must be on.
    await Tortoise.init(
        config=tortoise_config(database_url),
        _create_db=create_db,
        _enable_global_fallback=True,
    )


async def close() -> None:
    """Close every connection opened by init()."""
    await Tortoise.close_connections()


def dialect() -> str:
    """'sqlite' or 'postgres': the SQL dialect of the default connection."""
    return str(Tortoise.get_connection("default").capabilities.dialect)


# Transactions that a cancellation cannot wedge.
#
# Tortoise 1.1.9 enters a transaction in two steps: it takes the SQLite
# connection's lock (or a pooled PostgreSQL connection), then awaits BEGIN. A
# task cancelled during that await (a request whose client went away, a worker
# stopped at shutdown) leaves `__aenter__` with the exception, so `__aexit__`
# never runs: on SQLite the lock stays taken and every later query of the
# process waits for it for ever; on PostgreSQL the connection never goes back
# to its pool of five, and five such cancellations starve the process. Both
# were seen as hangs with an idle event loop (CI at 98 %, docs/testing.md).
# These entries give back what they took when BEGIN does not complete.


async def _begin(context: Any, client: Any) -> None:
    """The context's connection made current, and BEGIN; undone if BEGIN fails."""
    context.token = get_connections().set(context.connection_name, client)
    try:
        await client.begin()
    except BaseException:
        get_connections().reset(context.token)
        raise


async def _sqlite_enter(self: SqliteTransactionContext) -> Any:
    await self._trxlock.acquire()
    try:
        await self.ensure_connection()
        await _begin(self, self.connection)
    except BaseException:
        try:
            await _rollback_quietly(self.connection._connection)
        finally:
            self._trxlock.release()
        raise
    return self.connection


async def _rollback_quietly(sqlite: Any) -> None:
    """End a transaction whose BEGIN may still run in aiosqlite's thread.

    The ROLLBACK is queued behind it, and shielded from a second cancellation.
    Its own failure is not raised: the exception that ended BEGIN is.
    """
    if sqlite is None:
        return
    with contextlib.suppress(BaseException):
        await asyncio.shield(sqlite.rollback())


async def _pooled_enter(self: TransactionContextPooled) -> Any:
    await self.ensure_connection()
    pool = self.client._parent._pool
    self.client._connection = await pool.acquire()
    try:
        await _begin(self, self.client)
    except BaseException:
        # asyncpg's release rolls back an open transaction, and is shielded.
        await pool.release(self.client._connection)
        raise
    return self.client


SqliteTransactionContext.__aenter__ = _sqlite_enter  # type: ignore[method-assign]
TransactionContextPooled.__aenter__ = _pooled_enter  # type: ignore[method-assign]


def run_closing(command: Coroutine[Any, Any, T]) -> T:
    """asyncio.run for a command, closing the database however the command ends.

    A SQLite connection left open by a failure keeps aiosqlite's worker thread,
    and with it the process, alive after the error message.
    """

    async def closing() -> T:
        try:
            return await command
        finally:
            await close()

    return asyncio.run(closing())
