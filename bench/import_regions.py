"""Benchmark the national region import into SQLite and PostgreSQL.

Each run spawns a fresh ``python -m kimgraph.cli regions import --national``
(or ``regions import FILE``) against a fresh database and measures it from spawn
to exit, migrations and interpreter start included, with the child's own peak
RSS taken from ``os.wait4``. A second child then imports the same file again
into the now full database: the idempotent path, where nothing is added.

Run from the repository root::

    python -m bench.import_regions [--runs N] [--postgres-url URL] [FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped, unused-ignore]

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/"
BACKENDS = ("sqlite", "postgres")
FIRST = "first import"
AGAIN = "re-import"
_REPORT = re.compile(r"(\d+) rows: (\d+) added, (\d+) renamed, (\d+) unchanged")


class BenchError(RuntimeError):
    """A child import failed or reported something unexpected."""


@dataclass(frozen=True, slots=True)
class Measurement:
    """One child process: wall time from spawn to exit and its peak RSS."""

    wall_s: float
    peak_rss_kib: int
    rows: int
    added: int


@dataclass(frozen=True, slots=True)
class Summary:
    """The runs of one backend and run kind."""

    backend: str
    kind: str
    runs: list[Measurement]

    @property
    def walls(self) -> list[float]:
        return [m.wall_s for m in self.runs]

    @property
    def median_rss_mib(self) -> float:
        return statistics.median(m.peak_rss_kib for m in self.runs) / 1024


def import_command(file: Path | None) -> list[str]:
    """The child's argv: the bundled national file, or FILE."""
    source = ["--national"] if file is None else [str(file)]
    return [sys.executable, "-m", "kimgraph.cli", "regions", "import", *source]


def run_import(command: Sequence[str], database_url: str) -> Measurement:
    """Run one import child and measure it; BenchError if it fails."""
    env = dict(os.environ, KIMGRAPH_DATABASE_URL=database_url)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        # wait4 gives this one child's rusage; RUSAGE_CHILDREN would be the
        # maximum over every child waited for so far.
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if child.returncode != 0:
        raise BenchError(
            f"{' '.join(command)} exited with {child.returncode} "
            f"(KIMGRAPH_DATABASE_URL={database_url})\n{stdout}{stderr}"
        )
    found = _REPORT.search(stdout)
    if found is None:
        raise BenchError(f"no import report in the child's output:\n{stdout}{stderr}")
    # ru_maxrss is in KiB on Linux.
    return Measurement(wall, usage.ru_maxrss, int(found[1]), int(found[2]))


@contextmanager
def sqlite_database() -> Iterator[str]:
    """A fresh SQLite file in a temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="kimgraph-bench-") as folder:
        path = Path(folder, "kimgraph.db").resolve()
        yield f"sqlite:///{path}"


def _with_database(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _admin(server_url: str, statement: str) -> str:
    conn = await asyncpg.connect(_with_database(server_url, "postgres"), timeout=10)
    try:
        if statement.upper().startswith("SHOW"):
            return str(await conn.fetchval(statement))
        await conn.execute(statement)
        return ""
    finally:
        await conn.close()


def postgres_admin(server_url: str, statement: str) -> str:
    """Run one statement on the server's ``postgres`` database."""
    return asyncio.run(_admin(server_url, statement))


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database on the server, dropped afterwards."""
    name = f"kimgraph_bench_{uuid.uuid4().hex[:12]}"
    postgres_admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(server_url, name)
    finally:
        postgres_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_backend(
    backend: str,
    fresh_database: Callable[[], AbstractContextManager[str]],
    command: Sequence[str],
    runs: int,
) -> list[Summary]:
    """N fresh databases, each imported into twice: first import, then re-import."""
    first: list[Measurement] = []
    again: list[Measurement] = []
    for run in range(1, runs + 1):
        with fresh_database() as url:
            imported = run_import(command, url)
            if imported.added != imported.rows:
                raise BenchError(
                    f"{backend}: the first import added {imported.added} "
                    f"of {imported.rows} rows into a fresh database"
                )
            repeated = run_import(command, url)
            if repeated.added != 0:
                raise BenchError(
                    f"{backend}: the re-import added {repeated.added} rows"
                )
        first.append(imported)
        again.append(repeated)
        print(
            f"{backend} run {run}/{runs}: {FIRST} {imported.wall_s:.2f} s "
            f"{imported.peak_rss_kib / 1024:.0f} MiB, {AGAIN} {repeated.wall_s:.2f} s "
            f"{repeated.peak_rss_kib / 1024:.0f} MiB",
            file=sys.stderr,
            flush=True,
        )
    return [Summary(backend, FIRST, first), Summary(backend, AGAIN, again)]


def markdown_table(summaries: Sequence[Summary]) -> str:
    """The results as a markdown table."""
    lines = [
        "| backend | run kind | runs | median wall s | min s | max s "
        "| median peak RSS MiB |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in summaries:
        lines.append(
            f"| {s.backend} | {s.kind} | {len(s.runs)} "
            f"| {statistics.median(s.walls):.2f} | {min(s.walls):.2f} "
            f"| {max(s.walls):.2f} | {s.median_rss_mib:.0f} |"
        )
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_facts(backends: Sequence[str], postgres_url: str) -> list[str]:
    """Python, CPUs, SQLite and PostgreSQL versions, as markdown list items."""
    nproc = subprocess.run(
        ["nproc"], capture_output=True, text=True, check=True
    ).stdout.strip()
    facts = [
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.release()} {platform.machine()}",
        f"nproc: {nproc} ({_cpu_model()})",
        f"SQLite {sqlite3.sqlite_version}",
    ]
    if "postgres" in backends:
        version = postgres_admin(postgres_url, "SHOW server_version")
        facts.append(f"PostgreSQL server {version} (on {_host(postgres_url)})")
    return [f"- {fact}" for fact in facts]


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5432}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.import_regions", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "file",
        nargs="?",
        type=Path,
        help="a region CSV or CSV.gz file (default: the bundled national file)",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per backend")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help=f"the PostgreSQL server (default: {DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument(
        "--backend",
        dest="backends",
        action="append",
        choices=BACKENDS,
        help="benchmark only this backend (repeatable; default: both)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table and the machine facts."""
    args = _parser().parse_args(argv)
    if args.runs < 1:
        print("--runs must be at least 1", file=sys.stderr)
        return 2
    file: Path | None = None if args.file is None else args.file.resolve()
    if file is not None and not file.is_file():
        print(f"no such file: {file}", file=sys.stderr)
        return 2
    backends: list[str] = args.backends or list(BACKENDS)
    postgres_url: str = args.postgres_url
    command = import_command(file)
    summaries: list[Summary] = []
    try:
        facts = machine_facts(backends, postgres_url)
        for backend in backends:
            fresh: Callable[[], AbstractContextManager[str]] = (
                sqlite_database
                if backend == "sqlite"
                else partial(postgres_database, postgres_url)
            )
            summaries += bench_backend(backend, fresh, command, args.runs)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"bench: PostgreSQL at {_host(postgres_url)}: {exc}", file=sys.stderr)
        return 1
    rows = summaries[0].runs[0].rows
    source = "the bundled national file" if file is None else str(file)
    print(f"Region import of {source} ({rows:,} rows), {args.runs} run(s) each.")
    print("Wall time: spawn to exit of the child, interpreter start and migrations")
    print("included; peak RSS: the child's ru_maxrss from os.wait4.")
    print()
    print(markdown_table(summaries))
    print()
    print("\n".join(facts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
