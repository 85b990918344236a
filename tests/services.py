"""Test databases on SQLite and PostgreSQL, each test in its own database."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import pytest

POSTGRES_URL = os.environ.get(
    "KIMGRAPH_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/"
)
REQUIRE_SERVICES = os.environ.get("KIMGRAPH_REQUIRE_SERVICES") == "1"


def service_missing(reason: str) -> None:
    """Skip the test, or fail it when CI requires every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (KIMGRAPH_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


async def _admin(statement: str) -> None:
    conn = await asyncpg.connect(POSTGRES_URL + "postgres", timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def _run(statement: str) -> None:
    asyncio.run(_admin(statement))


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    name = f"kimgraph_test_{uuid.uuid4().hex[:12]}"
    try:
        _run(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as exc:
        service_missing(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}")
    try:
        yield POSTGRES_URL + name
    finally:
        _run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    """A fresh, empty database URL of the given backend."""
    if backend == "sqlite":
        yield f"sqlite://{folder / 'kimgraph.db'}"
        return
    with postgres_database() as url:
        yield url
