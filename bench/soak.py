"""Soak: the fault harness (bench/faults) for longer, with more boards.

Every fault of issue 16 is injected once per ~90 s of load, each at a random
moment; at the end every client's events are checked against the event log, and
the figures printed: events, deliveries, reconnects, faults, delivery delay, and
around each fault the delay and the time until delivery was back to normal.
Exits 1 if anything was lost, doubled, out of order or acknowledged but missing.

Run from the repository root (PostgreSQL on 127.0.0.1:5432, redis-server and
haproxy installed)::

    python -m bench.soak --minutes 10 --boards 3000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.faults.run import FAULTS, Config, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--boards", type=int, default=3000)
    parser.add_argument("--partners", type=int, default=50)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=5.0, help="mutations per second")
    parser.add_argument("--desa", type=int, default=100)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--code",
        type=Path,
        default=None,
        help="a directory holding another kimgraph package to serve (a broken copy)",
    )
    args = parser.parse_args(argv)
    seconds = args.minutes * 60
    config = Config(
        processes=args.processes,
        boards=args.boards,
        partners=args.partners,
        publishers=args.publishers,
        rate=args.rate,
        seconds=seconds,
        desa=args.desa,
        rounds=max(1, int(seconds // 90)),
        faults=FAULTS,
        seed=args.seed,
        code_path=args.code,
    )
    report = run(config)
    print(report.figures())
    problems = report.verdict.problems()
    print("\n".join(problems) if problems else "check: every client exact")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
