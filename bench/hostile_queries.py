"""Hostile queries: how fast they are refused and what they cost the server's memory.

Issue 17 found anonymous queries that took a server from 0.2 GB to 10.3 GB
(item 1), validation that cost 0.7 s of CPU per 4.4 KB (item 8) and a parser
cache that kept 1 MB comments (item 9). This benchmark starts ``kimgraph serve``
(pinned to CPU 0) on a fresh SQLite database holding the whole country's
regions (``kimgraph regions import --national``), then sends each hostile
query ``--repeat`` times from this process (CPU 1), one at a time, as an
anonymous client over HTTP. For each it records the answer's error code, the
wall time from writing the request to the whole answer read (median and max),
and the server's VmRSS before the first and after the last request.

The goal (issue 17's must-show): items 1 and 8 refused with QUERY_TOO_COMPLEX
in under 100 ms, the server's RSS unmoved (within a few MB of allocator noise).

Run from the repository root::

    python -m bench.hostile_queries [--repeat 20]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.fanout import HOST, kimgraph_server, machine_facts
from bench.import_regions import sqlite_database

# Item 1: 150 bytes, 13 levels.
NESTED = (
    '{region(code:"61.04"){... on Kabupaten{kecamatan{desa{kecamatan{desa{kecamatan'
    "{desa{kecamatan{desa{kecamatan{desa{kecamatan{code}}}}}}}}}}}}}}"
)
# Item 1: provinsi -> kabupaten/kota -> kecamatan -> desa, the whole country.
NATION = (
    "{regions(level: PROVINSI, first: 100){edges{node{... on Provinsi{"
    "kabupatenKota{... on Kabupaten{kecamatan{desa{code}}}}}}}}}"
)
# Item 8: 1,200 fields, 4.4 KB, under the token limit.
WIDE = '{region(code:"61.04"){' + " ".join(["parent{code}"] * 1200) + "}}"


def big_comment(index: int) -> str:
    """Item 9: a distinct cheap query behind a 1 MB comment (no tokens)."""
    return f"# {index} " + "x" * 1_048_000 + '\n{region(code:"61.04"){code}}'


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    query: Callable[[int], str]


CASES = (
    Case("item 1: nested regions, 13 levels", lambda _: NESTED),
    Case("item 1: every desa of the country", lambda _: NATION),
    Case("item 8: 1,200 x parent{code}", lambda _: WIDE),
    Case("item 9: distinct queries behind 1 MB comments", big_comment),
)


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    answers: str
    median_ms: float
    max_ms: float
    rss_before_mib: float
    rss_after_mib: float


def run_case(client: httpx.Client, rss: Callable[[], int], case: Case, n: int) -> Row:
    before = rss()
    times: list[float] = []
    codes: set[str] = set()
    for index in range(n):
        body = json.dumps({"query": case.query(index)})
        started = time.perf_counter()
        response = client.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
        times.append((time.perf_counter() - started) * 1000)
        answer = response.json()
        errors = answer.get("errors") or []
        code = errors[0].get("extensions", {}).get("code") if errors else "data"
        codes.add(f"{response.status_code} {code}")
    return Row(
        case.name,
        ", ".join(sorted(codes)),
        statistics.median(times),
        max(times),
        before / 1024,
        rss() / 1024,
    )


def table(rows: Sequence[Row]) -> str:
    lines = [
        "| query | answer | median ms | max ms | RSS before MiB | RSS after MiB |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.name} | {r.answers} | {r.median_ms:.1f} | {r.max_ms:.1f} "
            f"| {r.rss_before_mib:.1f} | {r.rss_after_mib:.1f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})  # the server gets CPU 0
    with (
        tempfile.TemporaryDirectory(prefix="kimgraph-hostile-") as folder,
        sqlite_database() as url,
    ):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "kimgraph.cli",
                *("regions", "import", "--national"),
            ],
            env={**os.environ, "KIMGRAPH_DATABASE_URL": url},
            check=True,
            capture_output=True,
            timeout=1800,
        )
        with kimgraph_server(contextlib.nullcontext(url), Path(folder)) as server:
            base = f"http://{HOST}:{server.port}"
            with httpx.Client(base_url=base, timeout=120, trust_env=False) as http:
                http.get("/healthz")
                rows = [
                    run_case(http, server.rss_kib, case, args.repeat) for case in CASES
                ]
    print("\n".join(machine_facts(True, os.getloadavg())))
    print()
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
