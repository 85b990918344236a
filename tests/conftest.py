"""Fixtures: a fresh database per test on each backend, an in-process client."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from argon2 import PasswordHasher
from tortoise.backends.base.executor import EXECUTOR_CACHE

from kimgraph import db as kimgraph_db
from kimgraph.accounts import auth
from kimgraph.app import create_app
from kimgraph.clock import FixedClock
from kimgraph.pii import keys as pii_keys
from kimgraph.regions import importer as region_import
from kimgraph.settings import Settings
from tests.people import Cast, make_cast
from tests.services import database

pytest_plugins = ["tests.watchdog", "pytester"]

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# Argon2id at its cheapest, for accounts made and checked in this process: the
# production parameters (argon2-cffi's defaults, 64 MiB and 3 passes, ~0.1-0.4 s
# a hash here) are slow on purpose, and hundreds of tests make or check one.
# A hash keeps its parameters, so checks follow whoever hashed. Servers started
# as processes (tests/e2e) and tests/kimgraph/accounts/test_auth.py's check of
# the parameters keep the real ones.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PRODUCTION_HASHER = auth._hasher
PRODUCTION_DUMMY_HASH = auth._DUMMY_HASH


@pytest.fixture(autouse=True)
def no_personal_data_keyring() -> Iterator[None]:
    """Each test starts with no keyring: create_app installs one process-wide.

    A keyring left by an earlier test (an app built with a secret) would seal the
    next test's rows under a key its own app does not hold.
    """
    pii_keys.install(None)
    yield
    pii_keys.install(None)


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """Accounts made in this process hash with CHEAP_HASHER."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "_hasher", CHEAP_HASHER)
        patch.setattr(auth, "_DUMMY_HASH", CHEAP_HASHER.hash("unknown username"))
        yield


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new empty database on each backend, for this test alone."""
    with database(str(request.param), tmp_path, migrated=True) as url:
        yield url


@pytest_asyncio.fixture
async def db(database_url: str) -> AsyncIterator[str]:
    """The database migrated to the latest schema and connected."""
    # Tortoise caches each model's INSERT statement by connection name only, so a
    # PostgreSQL test after a SQLite one would reuse SQLite's "?" placeholders.
    EXECUTOR_CACHE.clear()
    await kimgraph_db.migrate(database_url)
    await kimgraph_db.init(database_url)
    try:
        yield database_url
    finally:
        await kimgraph_db.close()


@pytest_asyncio.fixture
async def ketapang(db: str) -> str:
    """The database holding the bundled Kabupaten Ketapang regions."""
    await region_import.load_bundled_seed()
    return db


@pytest.fixture
def clock() -> FixedClock:
    """Time that moves only when a test says so: 2026-11-28 08:00 WIB."""
    return FixedClock(datetime(2026, 11, 28, 1, 0, tzinfo=UTC))


@pytest_asyncio.fixture
async def client(ketapang: str, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in this process and event loop."""
    app = create_app(Settings(database_url=ketapang), clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest_asyncio.fixture
async def cast(ketapang: str, clock: FixedClock) -> Cast:
    """KIM in two kecamatan and a principal of every kind, with credentials."""
    return await make_cast(clock)


async def execute(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST a GraphQL operation; the decoded JSON body."""
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@dataclass
class QueryLog(logging.Handler):
    """Collects the SQL statements Tortoise sends while attached."""

    statements: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        logging.Handler.__init__(self, level=logging.DEBUG)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if (
            message.lstrip()
            .upper()
            .startswith(("SELECT", "INSERT", "UPDATE", "DELETE"))
        ):
            self.statements.append(message)

    def __hash__(self) -> int:
        return id(self)


@pytest.fixture
def sql_log() -> Iterator[QueryLog]:
    """Every SQL statement run while the test runs."""
    handler = QueryLog()
    logger = logging.getLogger("tortoise.db_client")
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how the PostgreSQL leg went, so a silent skip cannot pass unnoticed."""
    counts: dict[str, int] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        reports = terminalreporter.stats.get(outcome, [])
        counts[outcome] = sum(
            1
            for report in reports
            if getattr(report, "when", "call") in ("call", "setup")
            and "[postgres" in getattr(report, "nodeid", "")
            and (outcome != "passed" or report.when == "call")
        )
    terminalreporter.write_line(
        "PostgreSQL leg: "
        + ", ".join(f"{count} {outcome}" for outcome, count in counts.items())
    )


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The test logs no ERROR record (kimgraph.api logs every unexpected error)."""
    with caplog.at_level(logging.WARNING):
        yield
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
