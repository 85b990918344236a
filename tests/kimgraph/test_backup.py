"""`kimgraph backup` and `kimgraph restore` as an operator runs them (one process each).

The round trip while a server writes is tests/e2e/test_backup.py; the rules are in
docs/operations.md, "Backups".
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from tortoise.migrations.api import migrate as run_migrations

from kimgraph import db
from kimgraph import migrations as migration_files
from kimgraph.serve import prepare_database
from kimgraph.settings import Settings

DESA = "61.04.16.2006"
# Every migration the package holds, in order: a new one is applied and backed up too.
MIGRATIONS = sorted(
    path.stem for path in Path(migration_files.__file__).parent.glob("[0-9]*_*.py")
)
LATEST = MIGRATIONS[-1]


def kimgraph(
    *args: str, cwd: Path, database_url: str
) -> subprocess.CompletedProcess[str]:
    """The command with only PATH (and PYTHONPATH) of this process's environment."""
    inherited = {k: v for k, v in os.environ.items() if k in ("PATH", "PYTHONPATH")}
    return subprocess.run(
        [sys.executable, "-m", "kimgraph.cli", *args],
        cwd=cwd,
        env={**inherited, "KIMGRAPH_DATABASE_URL": database_url},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def told(result: subprocess.CompletedProcess[str]) -> tuple[int, list[str], str]:
    """(status, stdout lines, stderr), after checking no traceback shows."""
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result.returncode, result.stdout.splitlines(), result.stderr


def served(folder: Path) -> Path:
    """A database as `kimgraph serve` leaves it: migrated, holding Ketapang."""
    file = folder / "kimgraph.db"
    asyncio.run(prepare_database(Settings(database_url=f"sqlite://{file}")))
    return file


def rows(file: Path, query: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(file)) as conn:
        return conn.execute(query).fetchall()


def migrations(file: Path) -> list[str]:
    return [str(name) for (name,) in rows(file, QUERY_MIGRATIONS)]


QUERY_MIGRATIONS = "SELECT name FROM tortoise_migrations ORDER BY id"
QUERY_REGIONS = "SELECT code, parent_id, level, name FROM region ORDER BY code"


def test_a_backup_restores_into_a_new_database_file(tmp_path: Path) -> None:
    # given
    database = served(tmp_path)
    backup = tmp_path / "kim.backup"
    restored = tmp_path / "restored" / "kimgraph.db"
    restored.parent.mkdir()
    # when
    made = kimgraph(
        "backup", "kim.backup", cwd=tmp_path, database_url=f"sqlite://{database}"
    )
    back = kimgraph(
        "restore", str(backup), cwd=tmp_path, database_url=f"sqlite://{restored}"
    )
    # then
    size = backup.stat().st_size
    assert told(made) == (
        0,
        [
            f"backed up {database} to kim.backup ({size:,} bytes; migrations "
            f"through {LATEST})"
        ],
        "",
    )
    assert told(back) == (
        0,
        [f"restored {backup} into {restored} (backup at {LATEST}; the current schema)"],
        "",
    )
    assert rows(restored, QUERY_REGIONS) == rows(database, QUERY_REGIONS)
    assert len(rows(restored, QUERY_REGIONS)) == 284
    assert migrations(restored) == MIGRATIONS
    # a file that stands alone (no WAL), readable by its owner only; nothing left
    assert rows(backup, "PRAGMA journal_mode") == [("delete",)]
    assert backup.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in restored.parent.iterdir()) == ["kimgraph.db"]


def test_backup_refuses_to_replace_a_file_unless_forced(tmp_path: Path) -> None:
    # given
    database = served(tmp_path)
    backup = tmp_path / "kim.backup"
    backup.write_text("an older backup")
    url = f"sqlite://{database}"
    # when
    refused = kimgraph("backup", str(backup), cwd=tmp_path, database_url=url)
    # then
    assert told(refused) == (
        2,
        [],
        f"kimgraph: {backup} exists; pass --force to replace it\n",
    )
    assert backup.read_text() == "an older backup"
    # when
    forced = kimgraph("backup", str(backup), "--force", cwd=tmp_path, database_url=url)
    # then
    assert told(forced)[0] == 0
    assert migrations(backup) == MIGRATIONS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kim.backup", "kimgraph.db"]


def test_backup_refuses_to_write_over_the_database_itself(tmp_path: Path) -> None:
    database = served(tmp_path)
    before = rows(database, QUERY_REGIONS)
    result = kimgraph(
        "backup",
        "kimgraph.db",
        "--force",
        cwd=tmp_path,
        database_url=f"sqlite://{database}",
    )
    assert told(result) == (
        2,
        [],
        "kimgraph: kimgraph.db is the database itself; back up to another file\n",
    )
    assert rows(database, QUERY_REGIONS) == before


def test_backup_of_a_database_that_does_not_exist(tmp_path: Path) -> None:
    result = kimgraph(
        "backup", "kim.backup", cwd=tmp_path, database_url="sqlite://missing.db"
    )
    assert told(result) == (
        2,
        [],
        "kimgraph: there is no database at missing.db (KIMGRAPH_DATABASE_URL); "
        "nothing to back up\n",
    )
    assert list(tmp_path.iterdir()) == []


def test_restore_refuses_a_database_that_is_not_empty(tmp_path: Path) -> None:
    # given: a backup, and a database a server has already used
    database = served(tmp_path)
    kimgraph("backup", "kim.backup", cwd=tmp_path, database_url=f"sqlite://{database}")
    with closing(sqlite3.connect(database)) as conn, conn:
        conn.execute("DELETE FROM region WHERE code = ?", (DESA,))
    before = rows(database, QUERY_REGIONS)
    # when
    result = kimgraph(
        "restore", "kim.backup", cwd=tmp_path, database_url=f"sqlite://{database}"
    )
    # then
    assert told(result) == (
        2,
        [],
        f"kimgraph: the database {database} is not empty; restore only into a new "
        "database file (KIMGRAPH_DATABASE_URL)\n",
    )
    assert rows(database, QUERY_REGIONS) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kim.backup", "kimgraph.db"]


def test_restore_refuses_an_empty_database_another_process_has_open(
    tmp_path: Path,
) -> None:
    # given: a backup, and an empty database in WAL mode, held open
    (tmp_path / "source").mkdir()
    backup = served(tmp_path / "source")
    database = tmp_path / "kimgraph.db"
    with closing(sqlite3.connect(database)) as holder:
        holder.execute("PRAGMA journal_mode=WAL")
        holder.execute("CREATE TABLE scratch (x)")
        holder.execute("DROP TABLE scratch")
        # when
        result = kimgraph(
            "restore",
            str(backup),
            cwd=tmp_path,
            database_url=f"sqlite://{database}",
        )
        # then
        assert told(result) == (
            2,
            [],
            f"kimgraph: {database}-wal exists: a process has the database open, or "
            "left this behind; stop it, or remove the file\n",
        )
        assert holder.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


def _a_text_file(path: Path) -> str:
    path.write_text("code,parent_code,level,name\n")
    return " is not a KIMgraph backup (file is not a database)"


def _another_programs_database(path: Path) -> str:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    return " is not a KIMgraph backup: it has no tortoise_migrations table"


def _a_newer_kimgraphs_backup(path: Path) -> str:
    served(path.parent)
    (path.parent / "kimgraph.db").rename(path)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "INSERT INTO tortoise_migrations (app, name, applied_at) "
            "VALUES ('models', '0099_future', '2027-01-01 00:00:00+00:00')"
        )
    return (
        " was made by a newer KIMgraph (migration 0099_future is unknown here); "
        "restore it with that version"
    )


@pytest.mark.parametrize(
    "make", [_a_text_file, _another_programs_database, _a_newer_kimgraphs_backup]
)
def test_restore_refuses_a_file_that_is_not_a_kimgraph_backup(
    tmp_path: Path, make: Callable[[Path], str]
) -> None:
    # given
    source = tmp_path / "given" / "kim.backup"
    source.parent.mkdir()
    reason = make(source)
    target = tmp_path / "new" / "kimgraph.db"
    target.parent.mkdir()
    # when
    result = kimgraph(
        "restore", str(source), cwd=tmp_path, database_url=f"sqlite://{target}"
    )
    # then
    assert told(result) == (2, [], f"kimgraph: {source}{reason}\n")
    assert list(target.parent.iterdir()) == []


def test_restore_refuses_a_damaged_backup(tmp_path: Path) -> None:
    # given: one region's code changed in its table row, not in the indexes
    served(tmp_path)
    backup = tmp_path / "kimgraph.db"
    with closing(sqlite3.connect(backup)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
    data = bytearray(backup.read_bytes())
    at = data.index(DESA.encode())
    data[at + len(DESA) - 1] = ord("9")
    backup.write_bytes(bytes(data))
    target = tmp_path / "new" / "kimgraph.db"
    target.parent.mkdir()
    # when
    result = kimgraph(
        "restore", str(backup), cwd=tmp_path, database_url=f"sqlite://{target}"
    )
    # then
    status, out, err = told(result)
    assert (status, out) == (1, [])
    assert re.fullmatch(
        f"kimgraph: {re.escape(str(backup))} is damaged: integrity_check says "
        r"row \d+ missing from index \w+\n",
        err,
    ), err
    assert list(target.parent.iterdir()) == []


def test_restore_of_an_older_backup_runs_the_migrations_forward(
    tmp_path: Path,
) -> None:
    # given: a backup made before the newest migration
    backup = tmp_path / "kim.backup"
    config = db.tortoise_config(f"sqlite://{backup}")
    asyncio.run(_migrate_to(config, f"models.{MIGRATIONS[-2]}"))
    target = tmp_path / "new" / "kimgraph.db"
    target.parent.mkdir()
    # when
    result = kimgraph(
        "restore", str(backup), cwd=tmp_path, database_url=f"sqlite://{target}"
    )
    # then
    assert told(result) == (
        0,
        [
            f"restored {backup} into {target} (backup at {MIGRATIONS[-2]}; then "
            f"applied {LATEST})"
        ],
        "",
    )
    assert migrations(target) == MIGRATIONS
    assert migrations(backup) == MIGRATIONS[:-1]


async def _migrate_to(config: dict[str, object], target: str) -> None:
    try:
        await run_migrations(config=config, target=target)
    finally:
        await db.close()


@pytest.mark.parametrize(
    ("command", "printed", "told_line"),
    [
        (
            "backup",
            [
                "pg_dump --format=custom '--file=/var/backups/kim 1.dump' "
                "--host=db.diskominfo --port=5433 --username=kim --dbname=kimgraph"
            ],
            "kimgraph: backup copies SQLite databases only; back up PostgreSQL with "
            'the pg_dump command above (docs/operations.md, "Backups")',
        ),
        (
            "restore",
            [
                "pg_restore --single-transaction --exit-on-error --no-owner "
                "--host=db.diskominfo --port=5433 --username=kim --dbname=kimgraph "
                "'/var/backups/kim 1.dump'",
                "kimgraph migrate",
            ],
            "kimgraph: restore copies SQLite backups only; restore PostgreSQL into "
            "an empty database with the pg_restore command above, then migrate "
            '(docs/operations.md, "Backups")',
        ),
    ],
)
def test_a_postgresql_database_is_left_to_pg_dump_and_pg_restore(
    tmp_path: Path, command: str, printed: list[str], told_line: str
) -> None:
    # given: a server that is not there; the command does not connect
    url = "postgres://kim:rahasia-sekali@db.diskominfo:5433/kimgraph"
    # when
    result = kimgraph(
        command, "/var/backups/kim 1.dump", cwd=tmp_path, database_url=url
    )
    # then
    assert told(result) == (2, printed, told_line + "\n")
    assert "rahasia" not in result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []
