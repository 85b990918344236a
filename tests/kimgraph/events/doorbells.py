"""A bus that records each doorbell and whether its event was committed by then."""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url

from kimgraph.events.memory import MemoryBus


@dataclass(frozen=True, slots=True)
class Ring:
    """One doorbell: the position rung, and whether that event was committed then."""

    position: int
    committed: bool


async def committed(database_url: str, event_id: int) -> bool:
    """Whether a connection of its own sees the event: it sees only committed rows."""
    connection = expand_db_url(database_url)
    if connection["engine"] == "tortoise.backends.sqlite":
        path = str(connection["credentials"]["file_path"])
        with contextlib.closing(sqlite3.connect(path, timeout=5)) as outside:
            found = outside.execute("SELECT 1 FROM event WHERE id = ?", (event_id,))
            return found.fetchone() is not None
    server = await asyncpg.connect(database_url, timeout=5)
    try:
        row = await server.fetchval("SELECT 1 FROM event WHERE id = $1", event_id)
        return row is not None
    finally:
        await server.close()


class RecordingBus(MemoryBus):
    """The in-process bus, recording every publish and what the log held at the time.

    The check runs outside the application's connections, at the moment of the
    publish: a ring before the commit finds nothing (on SQLite and PostgreSQL).
    """

    def __init__(self, database_url: str) -> None:
        super().__init__()
        self.database_url = database_url
        self.rings: list[Ring] = []

    async def publish(self, position: int) -> None:
        seen = await committed(self.database_url, position)
        self.rings.append(Ring(position, seen))
        await super().publish(position)
