"""Test services: SQLite and PostgreSQL databases (one per test), Redis."""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
import redis

from kimgraph.db import migrate

POSTGRES_URL = os.environ.get(
    "KIMGRAPH_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/"
)


def _worker_database(url: str) -> str:
    """The Redis URL with a database number of this pytest-xdist worker's own.

    Servers under test keep rate-limit buckets and persisted queries under fixed
    keys (kimgraph:limit:, kimgraph:apq:); two workers on one database would
    spend each other's allowances. Worker gwN gets database N + 1 of Redis's 16
    (a serial run keeps the URL's own). Pub/sub ignores database numbers, but a
    stray doorbell only makes a server read its own event log (docs/testing.md).
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    number = int(worker.removeprefix("gw")) % 15 + 1
    return urlsplit(url)._replace(path=f"/{number}").geturl()


REDIS_URL = _worker_database(
    os.environ.get("KIMGRAPH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
)
REQUIRE_SERVICES = os.environ.get("KIMGRAPH_REQUIRE_SERVICES") == "1"


def service_missing(reason: str) -> None:
    """Skip the test, or fail it when CI requires every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (KIMGRAPH_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


def redis_url() -> str:
    """The test Redis's URL, once it answers a PING; skips or fails otherwise."""
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5) as client:
            client.ping()
    except redis.RedisError as exc:
        service_missing(f"Redis is not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL


async def _admin(statement: str) -> None:
    conn = await asyncpg.connect(POSTGRES_URL + "postgres", timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def _run(statement: str) -> None:
    asyncio.run(_admin(statement))


class _Template:
    """One database per test run, migrated once, that test databases copy.

    Migrating a new PostgreSQL database costs ~0.6 s; copying a migrated one
    (CREATE DATABASE ... TEMPLATE) a fraction of that, for ~270 tests.
    """

    name: str | None = None

    @classmethod
    def ready(cls) -> str:
        if cls.name is None:
            name = f"kimgraph_template_{uuid.uuid4().hex[:12]}"
            _run(f'CREATE DATABASE "{name}"')
            try:
                asyncio.run(migrate(POSTGRES_URL + name))
            except BaseException:
                _run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                raise
            atexit.register(_run, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cls.name = name
        return cls.name


class _SqliteTemplate:
    """One SQLite file per test run, migrated once, that test databases copy.

    Migrating a new SQLite file costs ~0.25 s (more under coverage and load);
    copying a migrated one well under a millisecond, for ~1,000 tests.
    """

    path: Path | None = None

    @classmethod
    def ready(cls) -> Path:
        if cls.path is None:
            folder = tempfile.mkdtemp(prefix="kimgraph-template-")
            atexit.register(shutil.rmtree, folder, True)
            path = Path(folder) / "kimgraph.db"
            asyncio.run(migrate(f"sqlite://{path}"))
            cls.path = settled(path)
        return cls.path


def settled(path: Path) -> Path:
    """The SQLite file with its write-ahead log folded in: a copy of it is whole."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def sqlite_copy(template: Path, folder: Path) -> str:
    """The URL of a copy of a closed SQLite template as folder/kimgraph.db."""
    path = folder / "kimgraph.db"
    shutil.copyfile(template, path)
    return f"sqlite://{path}"


@contextmanager
def postgres_database(
    *, migrated: bool = False, template: str | None = None
) -> Iterator[str]:
    """A new PostgreSQL database (empty, at the latest schema, or a copy of the
    named template database), dropped after."""
    name = f"kimgraph_test_{uuid.uuid4().hex[:12]}"
    try:
        if template is None and migrated:
            template = _Template.ready()
        template = f' TEMPLATE "{template}"' if template else ""
        _run(f'CREATE DATABASE "{name}"{template}')
    except (OSError, asyncpg.PostgresError) as exc:
        service_missing(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}")
    try:
        yield POSTGRES_URL + name
    finally:
        _run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database(backend: str, folder: Path, *, migrated: bool = False) -> Iterator[str]:
    """A fresh database URL of the given backend, empty or (a copy of a database)
    migrated to the latest schema; callers may still migrate (a no-op then).
    """
    if backend == "sqlite":
        if migrated:
            yield sqlite_copy(_SqliteTemplate.ready(), folder)
        else:
            yield f"sqlite://{folder / 'kimgraph.db'}"
        return
    with postgres_database(migrated=migrated) as url:
        yield url
