"""Fan-out of aspirationEvents to N partner feeds of one region, shared or not.

Issue 12: partner apps follow `aspirationEvents(region: "61.04")` with their API
keys. Each partner key's view is its role and region, so identical
subscriptions of keys of one region share one run (docs/live-delivery.md,
"Shared subscriptions"). This measures that against the same server with
aspirationEvents taken out of the shared set (`unshared`: every subscription
runs on Strawberry's own path, as before issue 12), in one run and with the
same N: a server pinned to CPU 0 on a fresh SQLite database, `--keys` partner
keys of Kabupaten Ketapang, N graphql-transport-ws connections from this
process (CPU 1) spread over the keys, a warm-up aspiration until every feed is
live, then `--runs` public aspirations submitted by an admin in Desa Suka
Bangun. Each feed must get exactly one frame per aspiration, with its title
and without the reporter's name or contact. Reported per event (medians): the
server loop's CPU time from the submit until the last frame was read, and
when the last, the median and the 99th-percentile feed had it.

Run from the repository root::

    python -m bench.partner_fanout [--n 1000] [--runs 5] [--keys 10]
    python -m bench.fanout --partners [--n 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from bench.fanout import (
    ADMIN_OPTIONS,
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    FAILURES,
    REGION,
    TOKEN_CREATE,
    BenchError,
    Event,
    Fleet,
    HttpResponse,
    PhaseResult,
    ServerProcess,
    _log,
    _prepare_process,
    _warm_up,
    cli,
    close_all,
    connect_all,
    failed,
    frame_check,
    free_port,
    graphql,
    machine_facts,
    mask_frame,
    measure_rounds,
    serve_monitored,
    server_process,
    wait_idle,
)
from bench.import_regions import sqlite_database

PARTNER_REGION = "61.04"
SUBSCRIPTION = (
    "subscription ($region: String) { aspirationEvents(region: $region) "
    "{ cursor kind to occurredAt aspiration { id ticket title description status "
    "reporterName reporterContact region { code } } } }"
)
SUBMIT = (
    "mutation ($input: AspirationSubmitInput!) { aspirationSubmit(input: $input) "
    "{ ticket userErrors { field code message } } }"
)
CONTACT = "0812-5550-9999"
UNSHARED_ENV = "BENCH_ASPIRATION_EVENTS_UNSHARED"
SHARED, UNSHARED = "shared", "unshared"
MODULE = "bench.partner_fanout"
# Where `python -m bench.…` finds this package.
REPO = Path(__file__).resolve().parent.parent


def create_app() -> Any:
    """kimgraph.app.create_app(); aspirationEvents not shared if $UNSHARED_ENV."""
    from kimgraph import api
    from kimgraph import app as composition

    if os.environ.get(UNSHARED_ENV):
        # As before issue 12: every aspirationEvents runs on its own.
        unshared = {
            name: view
            for name, view in api.SHAREABLE_FIELDS.items()
            if name != "aspirationEvents"
        }
        setattr(composition, "SHAREABLE_FIELDS", unshared)  # noqa: B010
    return composition.create_app()


def make_keys(count: int) -> int:
    """Print `count` new partner keys of PARTNER_REGION, one a line."""
    from kimgraph import db
    from kimgraph.accounts.api_keys import create_api_key
    from kimgraph.clock import SystemClock
    from kimgraph.settings import Settings

    async def made() -> list[str]:
        await db.init(Settings.from_env().database_url)
        try:
            return [
                (await create_api_key(SystemClock(), f"Mitra {i}", PARTNER_REGION))[0]
                for i in range(count)
            ]
        finally:
            await db.close()

    print("\n".join(asyncio.run(made())))
    return 0


@contextmanager
def partner_server(
    folder: Path, mode: str, keys: int
) -> Iterator[tuple[ServerProcess, list[str]]]:
    """The server on a fresh database, an admin, and `keys` partner keys."""
    with sqlite_database() as url:
        env = {
            "KIMGRAPH_DATABASE_URL": url,
            "KIMGRAPH_LOG_LEVEL": "warning",
            # Every bench subscriber comes from 127.0.0.1: lift the per-address cap.
            "KIMGRAPH_WS_MAX_PER_ADDRESS": "1000000",
        }
        if mode == UNSHARED:
            env[UNSHARED_ENV] = "1"
        port = free_port()
        argv = [sys.executable, "-m", "bench.partner_fanout", "--server", str(port)]
        with server_process(argv, env, folder, port) as server:
            cli(env, folder, "accounts", "create", *ADMIN_OPTIONS)
            made = cli(env, REPO, "--make-keys", "--keys", str(keys), module=MODULE)
            yield server, made.decode().split()


class Submitter:
    """Submits public aspirations with personal data in REGION as the admin."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token
        self.tag = secrets.token_hex(3)
        self.count = 0

    def next_title(self) -> str:
        self.count += 1
        return f"Aspirasi {self.tag} {self.count:04d}"

    async def submit(self, title: str) -> HttpResponse:
        variables = {
            "input": {
                "region": REGION,
                "title": title,
                "description": "Jalan desa berlubang sejak musim hujan. " * 5,
                "category": "INFRASTRUCTURE",
                "visibility": "PUBLIC",
                "reporterName": "Hartini Wulandari",
                "reporterContact": CONTACT,
            }
        }
        response = await graphql(self.port, SUBMIT, variables, self.token)
        payload = response.json()["data"]["aspirationSubmit"]
        if payload["userErrors"]:
            raise BenchError(f"aspirationSubmit: {payload['userErrors']}")
        return response


def _frame_check(title: str) -> Callable[[bytes], str | None]:
    """Accepts the `next` frame of the aspiration with this title, no personal data."""

    def accepts(data: Any) -> bool:
        aspiration = data["aspirationEvents"]["aspiration"]
        return (
            aspiration["title"] == title
            and aspiration["reporterName"] is None
            and aspiration["reporterContact"] is None
            and CONTACT not in json.dumps(data)
        )

    return frame_check(accepts)


async def measure(
    server: ServerProcess, keys: list[str], mode: str, n: int, runs: int
) -> PhaseResult:
    """N partner feeds over `keys`; one round per submitted aspiration."""
    result = PhaseResult(f"aspirationEvents {mode}", n)
    response = await graphql(
        server.port,
        TOKEN_CREATE,
        {"i": {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}},
    )
    submitter = Submitter(server.port, response.json()["data"]["tokenCreate"]["token"])
    await wait_idle(server)
    result.rss_before_kib = server.rss_kib()
    fleet = Fleet(
        server.port,
        graphql=True,
        query=SUBSCRIPTION,
        variables={"region": PARTNER_REGION},
    )
    try:
        for index, key in enumerate(keys):
            # Each batch is acknowledged before the next key's frame is set.
            fleet.init_frame = mask_frame(
                0x1,
                json.dumps(
                    {
                        "type": "connection_init",
                        "payload": {"authorization": f"Bearer {key}"},
                    }
                ).encode(),
            )
            count = n // len(keys) + (1 if index < n % len(keys) else 0)
            result.connect_s += await connect_all(fleet, count)
        _log(f"  {result.system} N={n:,}: connected in {result.connect_s:.1f} s")
        await wait_idle(server)
        result.warmups = await _warm_up(
            fleet, lambda: submitter.submit(submitter.next_title())
        )
        await wait_idle(server)
        result.rss_idle_kib = server.rss_kib()

        def submit() -> Event:
            title = submitter.next_title()
            return partial(submitter.submit, title), _frame_check(title)

        await measure_rounds(result, fleet, server, runs, submit)
    finally:
        await close_all(fleet)
    return result


def table(results: Sequence[PhaseResult]) -> str:
    rows = [
        "| subscriptions | N | server CPU per event ms | waited for a CPU ms | "
        "last ms | p50 ms | p99 ms | KiB per feed | connect s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        rows.append(
            f"| {r.system} | {r.n:,} | {r.median(lambda x: x.server_cpu_s) * 1e3:.0f}"
            f" | {r.median(lambda x: x.server_wait_s) * 1e3:.0f}"
            f" | {r.median(lambda x: x.last) * 1e3:.1f}"
            f" | {r.median(lambda x: x.percentile(50)) * 1e3:.1f}"
            f" | {r.median(lambda x: x.percentile(99)) * 1e3:.1f}"
            f" | {r.kib_per_connection:.1f} | {r.connect_s:.1f} |"
        )
    return "\n".join(rows)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def run(args: argparse.Namespace) -> int:
    """Both modes for each N, shared first; the table and the machine facts."""
    pinned_ok = _prepare_process()
    load = os.getloadavg()
    before = uptime()
    results: list[PhaseResult] = []
    try:
        for n in args.n:
            for mode in args.modes:
                with tempfile.TemporaryDirectory(prefix="kimgraph-partners-") as tmp:
                    _log(f"N={n:,}: aspirationEvents {mode}")
                    with partner_server(Path(tmp), mode, args.keys) as (server, keys):
                        results.append(
                            asyncio.run(measure(server, keys, mode, n, args.runs))
                        )
    except FAILURES as exc:
        return failed(exc)
    command = shlex.join(["python", "-m", "bench.partner_fanout", *sys.argv[1:]])
    print(
        f"aspirationEvents to N partner feeds of {PARTNER_REGION} over {args.keys} "
        f"keys, {args.runs} aspiration(s) per mode and N, medians; `{command}`."
    )
    print()
    print(table(results))
    print()
    print("\n".join(machine_facts(pinned_ok, load)))
    print(f"- uptime before: {before}")
    print(f"- uptime after: {uptime()}")
    return 0


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.partner_fanout",
        description=(__doc__ or "").splitlines()[0],
    )
    parser.add_argument("--n", type=int, nargs="+", default=[1000])
    parser.add_argument("--runs", type=int, default=5, help="aspirations per N")
    parser.add_argument("--keys", type=int, default=10, help="partner keys")
    parser.add_argument(
        "--modes", nargs="+", choices=(SHARED, UNSHARED), default=[SHARED, UNSHARED]
    )
    parser.add_argument("--server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--make-keys", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.server is not None:
        return serve_monitored(args.server, f"{MODULE}:create_app")
    if args.make_keys:
        return make_keys(args.keys)
    if args.runs < 1 or args.keys < 1 or any(n < args.keys for n in args.n):
        print(
            "--runs and --keys must be at least 1, --n at least --keys", file=sys.stderr
        )
        return 2
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
