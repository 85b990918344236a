"""CPU per cold board query, in process: N misses through the whole ASGI app.

The app as ``kimgraph serve`` builds it (middleware, view, schema) with the
read cache off, on a fresh SQLite database holding Ketapang's regions and 20
announcements for the kabupaten; the board's document (read out of board.js)
registered once, then sent as its hash, rotating over all 253 desa, the way
``python -m bench.http``'s cold variant sends it. No sockets: each request is
one ASGI call, so what is timed is the server's own work per request.

    python -m bench.board_profile [--requests 2000] [--profile FILE] [--top 40]

Reports CPU milliseconds per request (process time); with ``--profile`` also
a cProfile of the measured requests, sorted by cumulative and by own time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gzip
import json
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.http import (
    ANNOUNCEMENTS,
    BROWSER_HEADERS,
    DESA,
    KABUPATEN,
    board_document,
    persisted_body,
)

ASGI = Any


async def _call(app: ASGI, body: bytes) -> tuple[int, dict[str, str], bytes]:
    """One POST /graphql through the app; (status, headers, body)."""
    headers = [(k.encode(), v.encode()) for k, v in BROWSER_HEADERS.items()]
    headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    parts: list[bytes] = []
    start: dict[str, Any] = {}
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))
            if not message.get("more_body"):
                done.set()

    await app(scope, receive, send)
    answer = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], answer, b"".join(parts)


def _decoded(headers: dict[str, str], body: bytes) -> Any:
    if headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    return json.loads(body)


async def _prepare(database_url: str) -> None:
    """Ketapang's regions and 20 announcements for the kabupaten."""
    from kimgraph import announcements, db, models
    from kimgraph.accounts.principals import Principal, Role
    from kimgraph.clock import SystemClock
    from kimgraph.regions import importer

    async def nobody(position: int, /) -> None:
        """No hub follows the log while preparing."""

    await db.migrate(database_url)
    await db.init(database_url)
    try:
        await importer.load_bundled_seed()
        root = Principal(role=Role.ADMIN, region_code="61", display_name="bench")
        for index in range(ANNOUNCEMENTS):
            draft = announcements.Draft(
                title=f"Pengumuman bench {index + 1}",
                body="Isi pengumuman untuk papan desa. " * 8,
                category=models.AnnouncementCategory.GENERAL,
                priority=models.AnnouncementPriority.IMPORTANT
                if index % 5 == 0
                else models.AnnouncementPriority.NORMAL,
                targets=[KABUPATEN],
            )
            await announcements.publish(SystemClock(), nobody, root, draft)
    finally:
        await db.close()


async def _desa(app: ASGI) -> list[str]:
    query = """query Desa($code: String!) {
      region(code: $code) { ... on Kabupaten { kecamatan { desa { code } } } }
    }"""
    body = json.dumps({"query": query, "variables": {"code": KABUPATEN}}).encode()
    _, headers, raw = await _call(app, body)
    data = _decoded(headers, raw)["data"]
    return [d["code"] for k in data["region"]["kecamatan"] for d in k["desa"]]


async def measure(
    database_url: str, requests: int, profile: cProfile.Profile | None
) -> tuple[float, list[dict[str, Any]]]:
    """CPU seconds per cold request over `requests`; the answers of one round."""
    from kimgraph.app import create_app
    from kimgraph.settings import Settings

    settings = Settings(database_url=database_url, read_cache_bytes=0)
    app = create_app(settings)
    answers: list[dict[str, Any]] = []
    async with app.router.lifespan_context(app):
        desa = await _desa(app)
        if len(desa) != 253:
            raise SystemExit(f"expected Ketapang's 253 desa, found {len(desa)}")
        document = board_document()
        register = persisted_body(document, {"region": DESA}, send=True)
        status, headers, raw = await _call(app, register)
        if status != 200 or "errors" in _decoded(headers, raw):
            raise SystemExit(f"registering failed: {_decoded(headers, raw)}")
        bodies = [
            persisted_body(document, {"region": code}, send=False) for code in desa
        ]
        for body in bodies:  # warm-up, and the answers checked once
            status, headers, raw = await _call(app, body)
            answer = _decoded(headers, raw)
            edges = answer["data"]["announcements"]["edges"]
            if status != 200 or len(edges) != ANNOUNCEMENTS:
                raise SystemExit(f"unexpected answer: {status} {answer}")
            answers.append(answer)
        started = time.process_time()
        if profile is not None:
            profile.enable()
        for index in range(requests):
            await _call(app, bodies[index % len(bodies)])
        if profile is not None:
            profile.disable()
        cpu = time.process_time() - started
    return cpu / requests, answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", type=Path, help="write a cProfile here")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument(
        "--answers", type=Path, help="write one round of answers (JSON) here"
    )
    args = parser.parse_args(argv)
    profile = cProfile.Profile() if args.profile else None
    with tempfile.TemporaryDirectory(prefix="kimgraph-board-profile-") as name:
        url = f"sqlite:///{Path(name) / 'kimgraph.db'}"
        asyncio.run(_prepare(url))
        per_request, answers = asyncio.run(measure(url, args.requests, profile))
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {args.requests} cold board "
        f"requests, {per_request * 1000:.3f} ms CPU each "
        f"({1 / per_request:,.0f} per CPU-second)"
    )
    if args.answers:
        args.answers.write_text(json.dumps(answers, indent=1, sort_keys=True))
    if profile is not None and args.profile is not None:
        profile.dump_stats(args.profile)
        stats = pstats.Stats(profile, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
