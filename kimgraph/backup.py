"""`kimgraph backup` and `kimgraph restore`: the SQLite file, copied while it serves.

PostgreSQL is pg_dump's and pg_restore's job: the commands say which to run.
How and why: docs/operations.md, "Backups".
"""

from __future__ import annotations

import asyncio
import os
import pkgutil
import shlex
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url
from tortoise.models import Model

from kimgraph import db, models
from kimgraph.cli_errors import FAILED, CliError

MIGRATIONS_TABLE = "tortoise_migrations"
APP = "models"
# How long the copy waits for a writer's lock; in WAL mode readers rarely wait.
BUSY_TIMEOUT_S = 30.0
POSTGRES_HELP = 'docs/operations.md, "Backups"'


def add_parsers(commands: Any) -> None:
    """Register `backup` and `restore` on the kimgraph command's subparsers."""
    backup_parser = commands.add_parser(
        "backup", help="copy the SQLite database, also while the server runs"
    )
    backup_parser.add_argument("file", type=Path, help="the backup file to write")
    backup_parser.add_argument(
        "--force", action="store_true", help="replace FILE if it exists"
    )
    restore_parser = commands.add_parser(
        "restore", help="restore a backup into a new, empty database"
    )
    restore_parser.add_argument("file", type=Path, help="a file made by `backup`")


def backup(database_url: str, file: Path, *, force: bool) -> int:
    """Copy the configured SQLite database into file, in one consistent snapshot."""
    source = _sqlite_file(database_url)
    if source is None:
        print(pg_dump_command(database_url, file))
        raise CliError(
            "backup copies SQLite databases only; back up PostgreSQL with the "
            f"pg_dump command above ({POSTGRES_HELP})"
        )
    if not source.is_file():
        raise CliError(
            f"there is no database at {source} (KIMGRAPH_DATABASE_URL); "
            "nothing to back up"
        )
    _check_destination(file, source, force=force)
    with _partial(file) as partial:
        try:
            # One step (pages=-1): a single read transaction, so one snapshot;
            # in steps, every write by the server would restart the copy.
            with (
                closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT_S)) as src,
                closing(sqlite3.connect(partial)) as dst,
            ):
                src.backup(dst)
                # The copy inherits WAL mode; in rollback mode it is one file.
                dst.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.DatabaseError as exc:
            raise _unreadable(source, exc, "is not a SQLite database") from None
        with closing(sqlite3.connect(partial)) as copy:
            applied = _recorded_migrations(copy, f"{source} is not a KIMgraph database")
            _check_integrity(copy, f"{source} is damaged")
        if file.exists() and not force:  # made while the copy ran
            raise CliError(f"{file} exists; pass --force to replace it")
        _durable_replace(partial, file)
    size = file.stat().st_size
    print(
        f"backed up {source} to {file} ({size:,} bytes; migrations through "
        f"{applied[-1] if applied else 'none'})"
    )
    return 0


async def restore(database_url: str, file: Path) -> int:
    """Copy a backup into the configured, empty database and migrate it forward."""
    target = _sqlite_file(database_url)
    if target is None:
        print(pg_restore_command(database_url, file))
        print("kimgraph migrate")
        raise CliError(
            "restore copies SQLite backups only; restore PostgreSQL into an empty "
            "database with the pg_restore command above, then migrate "
            f"({POSTGRES_HELP})"
        )
    await asyncio.to_thread(_check_restore, database_url, file, target)
    with _partial(target) as partial:
        before = await asyncio.to_thread(_copy_backup, file, partial)
        # Migrated before it takes the database's place: a failure leaves
        # the target as empty as it was.
        await db.migrate(f"sqlite://{partial}")
        after = await asyncio.to_thread(_finish_restore, partial, file, target)
    since = [name for name in after if name not in before]
    print(
        f"restored {file} into {target} (backup at {before[-1]}; "
        + (f"then applied {', '.join(since)})" if since else "the current schema)")
    )
    return 0


def pg_dump_command(database_url: str, file: Path) -> str:
    """The pg_dump command that backs up a PostgreSQL database (no password)."""
    return shlex.join(
        ["pg_dump", "--format=custom", f"--file={file}", *_pg_connection(database_url)]
    )


def pg_restore_command(database_url: str, file: Path) -> str:
    """The pg_restore command that fills an empty PostgreSQL database (no password)."""
    return shlex.join(
        [
            "pg_restore",
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            *_pg_connection(database_url),
            str(file),
        ]
    )


def _pg_connection(database_url: str) -> list[str]:
    credentials = expand_db_url(database_url)["credentials"]
    options = []
    for option, key in (("host", "host"), ("port", "port"), ("username", "user")):
        if credentials.get(key):
            options.append(f"--{option}={credentials[key]}")
    return [*options, f"--dbname={credentials['database']}"]


def _sqlite_file(database_url: str) -> Path | None:
    """The SQLite file a database URL names; None for PostgreSQL."""
    connection = expand_db_url(database_url)
    if connection["engine"] != "tortoise.backends.sqlite":
        return None
    file_path = str(connection["credentials"]["file_path"])
    if file_path == ":memory:":
        raise CliError("KIMGRAPH_DATABASE_URL names an in-memory database")
    return Path(file_path)


def _check_destination(file: Path, source: Path, *, force: bool) -> None:
    if not file.parent.is_dir():
        raise CliError(f"the folder {file.parent} does not exist")
    if file.exists():
        if file.is_dir():
            raise CliError(f"{file} is a folder; name the backup file")
        if file.samefile(source):
            raise CliError(f"{file} is the database itself; back up to another file")
        if not force:
            raise CliError(f"{file} exists; pass --force to replace it")


def _check_empty(target: Path) -> None:
    """CliError unless the database file is absent or holds no table."""
    if target.exists() and target.stat().st_size > 0:
        try:
            # Not read-only: that would leave a WAL-mode file's -wal behind.
            with closing(sqlite3.connect(target)) as conn:
                (tables,) = conn.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                ).fetchone()
        except sqlite3.DatabaseError:
            tables = None
        if tables != 0:
            raise CliError(
                f"the database {target} is not empty; restore only into a new "
                "database file (KIMGRAPH_DATABASE_URL)"
            )
    # Closing the last connection removes the WAL file: one left means another
    # process has the file open, and the copy would mix with its log.
    wal = target.with_name(target.name + "-wal")
    if wal.exists():
        raise CliError(
            f"{wal} exists: a process has the database open, or left this "
            "behind; stop it, or remove the file"
        )


def _copy_backup(file: Path, partial: Path) -> list[str]:
    """Copy a checked backup into partial; the migrations it has."""
    try:
        with (
            closing(_read_only(file)) as src,
            closing(sqlite3.connect(partial)) as dst,
        ):
            applied = _recorded_migrations(src, f"{file} is not a KIMgraph backup")
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.DatabaseError as exc:
        raise _unreadable(file, exc, "is not a KIMgraph backup") from None
    unknown = [name for name in applied if name not in _known_migrations()]
    if unknown:
        raise CliError(
            f"{file} was made by a newer KIMgraph (migration {unknown[0]} is "
            "unknown here); restore it with that version"
        )
    if not applied:
        raise CliError(f"{file} is not a KIMgraph backup: it records no migration")
    with closing(sqlite3.connect(partial)) as copy:
        _check_integrity(copy, f"{file} is damaged")
    return applied


def _check_restore(database_url: str, file: Path, target: Path) -> None:
    db.check_sqlite_folder(database_url)
    if not file.is_file():
        raise CliError(f"{'not a file' if file.exists() else 'no such file'}: {file}")
    _check_empty(target)


def _finish_restore(partial: Path, file: Path, target: Path) -> list[str]:
    """Check the migrated copy, put it in target's place; its migrations."""
    with closing(sqlite3.connect(partial)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        missing = sorted(_model_tables() - tables)
        if missing:
            raise CliError(
                f"{file} is not a KIMgraph backup: it has no table {missing[0]}"
            )
        applied = _recorded_migrations(conn, f"{file} is not a KIMgraph backup")
    _check_empty(target)
    # As SQLite would create it; a backup file stays its owner's alone.
    mask = os.umask(0)
    os.umask(mask)
    partial.chmod(0o644 & ~mask)
    _durable_replace(partial, target)
    return applied


def _recorded_migrations(conn: sqlite3.Connection, refusal: str) -> list[str]:
    """The names of the applied KIMgraph migrations, oldest first."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
        (MIGRATIONS_TABLE,),
    ).fetchone()
    if found is None:
        raise CliError(f"{refusal}: it has no {MIGRATIONS_TABLE} table")
    rows = conn.execute(
        f"SELECT name FROM {MIGRATIONS_TABLE} WHERE app = ? ORDER BY id", (APP,)
    )
    return [str(row[0]) for row in rows]


def _check_integrity(conn: sqlite3.Connection, refusal: str) -> None:
    (verdict,) = conn.execute("PRAGMA integrity_check(1)").fetchone()
    if verdict != "ok":
        raise CliError(f"{refusal}: integrity_check says {verdict}", FAILED)


def _known_migrations() -> set[str]:
    from kimgraph import migrations

    return {module.name for module in pkgutil.iter_modules(migrations.__path__)}


def _model_tables() -> set[str]:
    return {
        model._meta.db_table
        for model in vars(models).values()
        if isinstance(model, type)
        and issubclass(model, Model)
        and not model._meta.abstract
    }


def _read_only(file: Path) -> sqlite3.Connection:
    # A backup is read, never written; a database file's WAL (if it has one)
    # is still read.
    return sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)


def _unreadable(file: Path, exc: sqlite3.DatabaseError, refusal: str) -> CliError:
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return CliError(f"{file} stayed locked for {BUSY_TIMEOUT_S:.0f} s", FAILED)
    return CliError(f"{file} {refusal} ({exc})")


@contextmanager
def _partial(file: Path) -> Iterator[Path]:
    """A new file beside file (absolute path), removed unless renamed into place."""
    handle, name = tempfile.mkstemp(
        dir=file.parent.absolute(), prefix=f".{file.name}.", suffix=".partial"
    )
    os.close(handle)
    partial = Path(name)
    try:
        yield partial
    finally:
        for leftover in ("", "-journal", "-wal", "-shm"):
            Path(name + leftover).unlink(missing_ok=True)


def _durable_replace(partial: Path, file: Path) -> None:
    """Rename partial to file, both on disk before this returns."""
    _fsync(partial)
    os.replace(partial, file)
    _fsync(file.parent)


def _fsync(path: Path) -> None:
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
