"""The e2e fixtures most modules share: one `kimgraph serve` and a signed-in admin;
a staffed aspiration desk on both backends.

A module that needs another server (PostgreSQL too, other settings) defines its own
`deployed` or `staffed`; `live` and `desk` then sign in to that one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.e2e.aspiration_desk import Desk, desk_for, staffed_server
from tests.e2e.live import Live, live_server, signed_in
from tests.e2e.server import Server


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[tuple[Server, str, str]]:
    """`kimgraph serve` on a fresh SQLite database, with its admin's credentials."""
    with live_server("sqlite", tmp_path) as deployment:
        yield deployment


@pytest_asyncio.fixture
async def live(deployed: tuple[Server, str, str]) -> AsyncIterator[Live]:
    """The deployment, signed in as its admin."""
    async with signed_in(deployed) as state:
        yield state


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def staffed(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Server, dict[str, str]]]:
    """`kimgraph serve` with the desk's accounts, on each backend."""
    with staffed_server(str(request.param), tmp_path) as deployment:
        yield deployment


@pytest_asyncio.fixture
async def desk(staffed: tuple[Server, dict[str, str]]) -> AsyncIterator[Desk]:
    """The staffed deployment's accounts, signed in."""
    async with desk_for(*staffed) as state:
        yield state
