"""Memory and GC pauses of a server replaying its event log (issue 17, item 7).

A real `kimgraph serve` (SQLite) is seeded over HTTP with --events announcement
events; then it is started again on that database, one anonymous WebSocket
opens --subscriptions `announcementEvents(after: <first event's cursor>)`
subscriptions, and the server's RSS is sampled every second for --seconds
while it replays the log to each of them. GC pauses are measured inside the
server: it runs under this script (`--serve`), which puts a gc.callbacks
timer in the process before `kimgraph serve` starts, so the same measure
works on any version of the code (PYTHONPATH picks the code to measure).

    python -m bench.replay_memory                  # the code of this checkout
    PYTHONPATH=/tmp/h4-before python bench/replay_memory.py   # another tree

Goal (docs/performance.md): RSS under 300 MB, no GC pause over 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
REGION = "61.04.16.2006"
ADMIN = ("bench.admin", "kata-sandi-bench-replay-123")
TOKEN_CREATE = "mutation ($i: TokenCreateInput!) { tokenCreate(input: $i) { token } }"
PUBLISH = (
    "mutation ($input: AnnouncementPublishInput!) { announcementPublish(input: $input)"
    " { userErrors { code message } } }"
)
EVENT_CURSOR = "query ($r: String!) { announcements(region: $r) { eventCursor } }"
SUBSCRIPTION = (
    "subscription ($region: String!, $after: String) { announcementEvents("
    "region: $region, after: $after) { cursor kind announcement { id title body "
    "priority status } } }"
)
STARTUP_TIMEOUT_S = 90.0
GC_REPORT_S = 0.5


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _post(port: int, query: str, variables: dict[str, Any], token: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(
        f"http://{HOST}:{port}/graphql", body, headers, method="POST"
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=60) as response:
        payload = json.loads(response.read())
    if payload.get("errors"):
        raise RuntimeError(f"GraphQL errors: {payload['errors']}")
    return payload["data"]


def _healthy(port: int) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://{HOST}:{port}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


REPO = Path(__file__).resolve().parent.parent


@contextmanager
def _server(
    env: dict[str, str], folder: Path, gc_file: Path
) -> Iterator[tuple[int, int]]:
    port = _free_port()
    log = (folder / f"server-{port}.log").open("wb")
    child = subprocess.Popen(
        # As a module, not a script: a script's folder (bench/) comes first on
        # sys.path, and bench/http.py would then stand in for the standard
        # library's http.
        [
            sys.executable,
            "-m",
            "bench.replay_memory",
            "--serve",
            str(port),
            str(gc_file),
        ],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _healthy(port):
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((folder / f"server-{port}.log").read_text()[-3000:])
            time.sleep(0.2)
        yield port, child.pid
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        log.close()


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def seed(port: int, events: int, folder: Path, env: dict[str, str]) -> str:
    """Publish `events` announcements; the first event's cursor."""
    subprocess.run(
        [
            *(sys.executable, "-m", "kimgraph.cli", "accounts", "create"),
            *("--username", ADMIN[0], "--role", "ADMIN", "--region", "61.04"),
            *("--password", ADMIN[1]),
        ],
        env={**os.environ, **env},
        cwd=folder,
        check=True,
        capture_output=True,
    )
    credentials = {"username": ADMIN[0], "password": ADMIN[1]}
    token = _post(port, TOKEN_CREATE, {"i": credentials}, None)["tokenCreate"]["token"]
    first = ""
    for number in range(events):
        variables = {
            "input": {
                "title": f"Pengumuman {number:05d}",
                "body": "Air bersih tersedia lagi di balai desa. " * 5,
                "category": "GENERAL",
                "targets": [REGION],
            }
        }
        errors = _post(port, PUBLISH, variables, token)["announcementPublish"]
        if errors["userErrors"]:
            raise RuntimeError(f"announcementPublish: {errors['userErrors']}")
        if number == 0:
            data = _post(port, EVENT_CURSOR, {"r": REGION}, None)
            first = data["announcements"]["eventCursor"]
    return first


def _gc_figures(gc_file: Path) -> dict[str, Any]:
    """What the server's GC probe wrote last."""
    figures: dict[str, Any] = (
        json.loads(gc_file.read_text()) if gc_file.exists() else {}
    )
    return figures


async def replay(
    port: int, pid: int, cursor: str, subscriptions: int, seconds: float, gc_file: Path
) -> dict[str, Any]:
    """Subscribe, read every frame, sample RSS each second; the figures."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    frames = 0
    closed: str | None = None
    samples: list[float] = []
    async with connect(
        f"ws://{HOST}:{port}/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        compression=None,
        max_size=None,
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        ack = json.loads(await ws.recv())
        assert ack["type"] == "connection_ack", ack
        for number in range(subscriptions):
            variables = {"region": REGION, "after": cursor}
            payload = {"query": SUBSCRIPTION, "variables": variables}
            message = {"id": str(number), "type": "subscribe", "payload": payload}
            await ws.send(json.dumps(message))

        async def read() -> None:
            nonlocal frames, closed
            try:
                async for raw in ws:
                    message = json.loads(raw)
                    if message["type"] == "next":
                        frames += 1
                    elif message["type"] == "ping":
                        await ws.send(json.dumps({"type": "pong"}))
                    elif message["type"] in ("error", "complete"):
                        closed = str(message)[:300]
            except ConnectionClosed as exc:  # report how it closed
                closed = repr(exc)

        reader = asyncio.create_task(read())
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            samples.append(_rss_mib(pid))
            await asyncio.sleep(1.0)
        reader.cancel()
    gc_stats = _gc_figures(gc_file)
    return {
        "frames": frames,
        "closed": closed,
        "rss_start_mib": samples[0],
        "rss_max_mib": max(samples),
        "rss_end_mib": samples[-1],
        "rss_samples": samples,
        "gc": gc_stats,
    }


def serve_with_gc_probe(port: int, gc_file: Path) -> None:
    """`kimgraph serve --port port`, timing every GC pass into gc_file.

    Only passes after the app's `gc.freeze()` count: those before are start-up.
    Each pass is timed on the wall clock (what the event loop waits) and on
    the thread's CPU clock (the same, less time the busy machine took away).
    """
    figures: dict[str, Any] = {
        "collections": [0, 0, 0],
        "longest_ms": [0.0, 0.0, 0.0],
        "longest_cpu_ms": [0.0, 0.0, 0.0],
        "pauses_over_100ms": 0,
        "cpu_over_100ms": 0,
        "collected": 0,
    }
    started = [0.0, 0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[:] = [time.perf_counter(), time.thread_time()]
            return
        if not gc.get_freeze_count():
            return
        wall_ms = (time.perf_counter() - started[0]) * 1000
        cpu_ms = (time.thread_time() - started[1]) * 1000
        generation = info["generation"]
        figures["collections"][generation] += 1
        figures["collected"] += info["collected"]
        longest, longest_cpu = figures["longest_ms"], figures["longest_cpu_ms"]
        longest[generation] = max(longest[generation], round(wall_ms, 1))
        longest_cpu[generation] = max(longest_cpu[generation], round(cpu_ms, 1))
        figures["pauses_over_100ms"] += wall_ms > 100
        figures["cpu_over_100ms"] += cpu_ms > 100

    def report() -> None:
        while True:
            time.sleep(GC_REPORT_S)
            figures["threshold"] = gc.get_threshold()
            figures["frozen"] = gc.get_freeze_count()
            gc_file.write_text(json.dumps(figures))

    gc.callbacks.append(callback)
    threading.Thread(target=report, daemon=True).start()
    from kimgraph.cli import main

    sys.exit(main(["serve", "--port", str(port)]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=3300)
    parser.add_argument("--subscriptions", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "GC_FILE"))
    args = parser.parse_args(argv)
    if args.serve:
        serve_with_gc_probe(int(args.serve[0]), Path(args.serve[1]))
        return 0
    import kimgraph

    with tempfile.TemporaryDirectory(prefix="replay-memory-") as name:
        folder = Path(name)
        env = {
            "KIMGRAPH_DATABASE_URL": f"sqlite://{folder / 'replay.db'}",
            "KIMGRAPH_LOG_LEVEL": "warning",
        }
        print(f"code: {Path(kimgraph.__file__).parent}", flush=True)
        seeding = time.monotonic()
        with _server(env, folder, folder / "gc-seed.json") as (port, _):
            cursor = seed(port, args.events, folder, env)
        print(f"seeded {args.events} events in {time.monotonic() - seeding:.0f} s")
        gc_file = folder / "gc.json"
        with _server(env, folder, gc_file) as (port, pid):
            figures = asyncio.run(
                replay(port, pid, cursor, args.subscriptions, args.seconds, gc_file)
            )
        samples = figures.pop("rss_samples")
        print(json.dumps(figures, indent=1))
        print("rss every 10 s (MiB):", [round(s) for s in samples[::10]])
        for line in folder.glob("server-*.log"):
            text = line.read_text(errors="replace")
            if "Traceback" in text or "ERROR" in text:
                print(f"{line.name}:\n{text[-2000:]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
