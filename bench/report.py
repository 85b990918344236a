"""Benchmark aspirationStats on 100,000 aspirations, in SQLite and PostgreSQL.

Fills a fresh database with the bundled Ketapang regions and N aspirations
spread over 2026 and every desa, each with its history (submitted; most
verified, then disposed and responded to), all by bulk insert; then times
`kimgraph.reports.aspiration_stats` for the kabupaten over the whole year.

Run from the repository root::

    python -m bench.report [--aspirations N] [--runs R] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg  # type: ignore[import-untyped, unused-ignore]
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from kimgraph import db, models, reports
from kimgraph.models import AspirationCategory, AspirationStatus
from kimgraph.regions import importer

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/"
YEAR = reports.Period(date(2026, 1, 1), date(2026, 12, 31))
BATCH = 5_000
# Where each aspiration stops: (its steps, weight).
PATHS = [
    ((AspirationStatus.SUBMITTED,), 10),
    ((AspirationStatus.SUBMITTED, AspirationStatus.VERIFIED), 10),
    (
        (
            AspirationStatus.SUBMITTED,
            AspirationStatus.VERIFIED,
            AspirationStatus.DISPOSED,
        ),
        20,
    ),
    (
        (
            AspirationStatus.SUBMITTED,
            AspirationStatus.VERIFIED,
            AspirationStatus.DISPOSED,
            AspirationStatus.RESPONDED,
            AspirationStatus.RESOLVED,
        ),
        60,
    ),
]


async def fill(count: int, seed: int = 2026) -> int:
    """count aspirations and their history; how many history rows."""
    rng = random.Random(seed)
    desa = [
        r.code
        for r in await models.Region.filter(
            level__in=[models.RegionLevel.DESA, models.RegionLevel.KELURAHAN]
        )
    ]
    start = datetime(2025, 12, 31, 17, 0, tzinfo=UTC)  # 1 January 00:00 WIB
    paths = [p for p, _ in PATHS]
    weights = [w for _, w in PATHS]
    steps = 0
    for first in range(0, count, BATCH):
        rows, plans = [], []
        for n in range(first, min(first + BATCH, count)):
            at = start + timedelta(minutes=rng.randrange(365 * 24 * 60))
            path = rng.choices(paths, weights)[0]
            rows.append(
                models.Aspiration(
                    ticket=f"BENCH-{n:07d}",
                    title="Laporan",
                    description="Uraian.",
                    category=rng.choice(list(AspirationCategory)),
                    region_id=rng.choice(desa),
                    status=path[-1],
                    version=len(path),
                    visibility=models.AspirationVisibility.CONFIDENTIAL,
                    due_at=at + timedelta(days=5)
                    if path[-1] is AspirationStatus.SUBMITTED
                    else None,
                    created_at=at,
                    updated_at=at,
                )
            )
            plans.append((at, path))
        await models.Aspiration.bulk_create(rows, batch_size=1_000)
        ids = await models.Aspiration.filter(
            ticket__in=[r.ticket for r in rows]
        ).values_list("ticket", "id")
        by_ticket = dict(ids)
        history = []
        for row, (at, path) in zip(rows, plans, strict=True):
            when, previous = at, None
            for status in path:
                history.append(
                    models.AspirationTransition(
                        aspiration_id=by_ticket[row.ticket],
                        from_status=previous,
                        to_status=status,
                        capacity="verifier",
                        actor_name="bench",
                        at=when,
                    )
                )
                previous = status
                when += timedelta(hours=rng.randrange(4, 24 * 9))
        await models.AspirationTransition.bulk_create(history, batch_size=1_000)
        steps += len(history)
    return steps


@asynccontextmanager
async def database(backend: str, postgres_url: str) -> AsyncIterator[str]:
    """A fresh, migrated database of the backend; dropped (PostgreSQL) after."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite://{Path(folder) / 'bench.sqlite3'}"
        return
    name = f"kimgraph_bench_report_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres_url + "postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url + name
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def bench(backend: str, count: int, runs: int, postgres_url: str) -> None:
    # Tortoise caches INSERT statements by connection name, placeholders and all.
    EXECUTOR_CACHE.clear()
    async with database(backend, postgres_url) as url:
        await db.migrate(url)
        await db.init(url)
        try:
            await importer.load_bundled_seed()
            began = time.perf_counter()
            steps = await fill(count)
            filled = time.perf_counter() - began
            if backend == "postgres":
                await Tortoise.get_connection("default").execute_script("ANALYZE")
            now = datetime(2027, 1, 15, tzinfo=UTC)
            times = []
            for _ in range(runs):
                began = time.perf_counter()
                stats = await reports.aspiration_stats("61.04", YEAR, now)
                times.append(time.perf_counter() - began)
        finally:
            await db.close()
    assert stats.total == count, stats.total
    print(
        f"{backend}: {count:,} aspirations, {steps:,} history rows "
        f"(filled in {filled:.0f} s); aspirationStats 61.04 over 2026, {runs} runs: "
        f"median {statistics.median(times) * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms (verify median "
        f"{stats.steps['verify'].median}, p90 {stats.steps['verify'].p90})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aspirations", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument(
        "--backend", choices=["sqlite", "postgres", "both"], default="both"
    )
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        asyncio.run(bench(backend, args.aspirations, args.runs, args.postgres_url))


if __name__ == "__main__":
    main()
