"""Fan-out: one announcement to N subscribers, beside a bare Starlette broadcast.

For each N the benchmark starts ``kimgraph serve`` on a fresh database (pinned to
CPU 0), signs in as an admin, opens N graphql-transport-ws connections from this
process (pinned to CPU 1) that all subscribe to the same ``announcementEvents``
document with the same variables, proves every subscription live with a warm-up
announcement, and then publishes one announcement per run over HTTP. For every
subscriber it records when the frame arrived, relative to the moment just before
the publish request was written. Then, in the same run and with the same N, a
bare Starlette WebSocket endpoint served by uvicorn with the same settings gets
the same N connections and broadcasts the exact frame a KIMgraph subscriber got.
Server memory per idle connection is the growth of the server's VmRSS from
before the first connection to all N connected, subscribed and idle.

The client is a minimal WebSocket client on asyncio protocols (handshake, no
extensions offered, so no permessage-deflate; unmasked server frames parsed in
``data_received``, timestamped there with ``time.perf_counter``), so that
reading 10,000 frames costs this process as little as possible. It answers the
server's pings (WebSocket and graphql-transport-ws) like a board would, and
keeps its own garbage collector off while a round is in flight. p50/p99 are
nearest-rank percentiles over the N subscribers; each table cell is the median
over the runs. Any connection failure, missing or duplicate frame exits 1.

Run from the repository root::

    python -m bench.fanout [--n 1000 10000] [--runs 3] [--backend sqlite]
    python -m bench.fanout --storm [--n 10000] [--runs 3]
    python -m bench.fanout --partners [--n 1000] [--runs 5]

``--storm`` measures the resume storm of issue 12 instead: N subscribers send
the board's own subscription (read from kimgraph/board/board.js) with `after`
a cursor 20 events back, all at once; each must get exactly those 20, in
order, then the next live event once. Reported: when the last one had all 20
(from the first connect), server memory per connection once live, the
server's worst event-loop lag and GC pause during the storm (measured inside
the server: a 10 ms sleep's lateness, gc.callbacks), the first live event's
last arrival beside a bare broadcast of the same frame to N in the same run,
and one subscriber replaying 10,000 missed events.

``--partners`` measures aspirationEvents to N partner feeds of one region,
shared and unshared (bench.partner_fanout).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import cProfile
import gc
import hashlib
import json
import math
import os
import platform
import re
import resource
import secrets
import shlex
import signal
import socket
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import types
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from bench.import_regions import (
    DEFAULT_POSTGRES_URL,
    postgres_database,
    sqlite_database,
)

HOST = "127.0.0.1"
REGION = "61.04.16.2006"
ADMIN_REGION = "61.04"
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "kata-sandi-bench-fanout-123"
SUBSCRIPTION = (
    "subscription ($region: String!) { announcementEvents(region: $region) "
    "{ cursor kind announcement { id title body priority status } } }"
)
OPERATION_ID = "1"
PUBLISH = (
    "mutation ($input: AnnouncementPublishInput!) { announcementPublish(input: $input) "
    "{ announcement { id title } userErrors { field code message } } }"
)
QUERY_CURSOR = (
    "query ($region: String!) { announcements(region: $region) { eventCursor } }"
)
TOKEN_CREATE = "mutation ($i: TokenCreateInput!) { tokenCreate(input: $i) { token } }"
# The event frame measured in docs/performance.md is 436 bytes; the bodies are sized so
# the frame a subscriber gets is about this long.
TARGET_FRAME_BYTES = 436
WARMUP_BODY_CHARS = 300

SERVER_CPU = 0
CLIENT_CPU = 1
CONNECT_CONCURRENCY = 200
HANDSHAKE_TIMEOUT_S = 120.0
STARTUP_TIMEOUT_S = 90.0
ROUND_TIMEOUT_S = 120.0
# A warm-up ends when every subscriber has it, or nobody got it for this long.
WARMUP_QUIET_S = 10.0
WARMUP_ATTEMPTS = 10
# After the last subscriber has an event: time for duplicates to show up.
SETTLE_S = 0.3
# "Idle": the server's loop below this share of a CPU for two windows in a row.
IDLE_SHARE = 0.25
IDLE_WINDOW_S = 0.5
# Over how long the CPU use of N idle connections is measured: one ping period.
IDLE_MEASURE_S = 15.0

LINGER_RESET = struct.pack("ii", 1, 0)
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
KIMGRAPH = "kimgraph"
BARE = "bare starlette"


class BenchError(RuntimeError):
    """A server failed, a connection failed, or a subscriber missed an event."""


FAILURES = (BenchError, subprocess.CalledProcessError, OSError)


def failed(exc: BaseException) -> int:
    """Say why a benchmark could not finish (a command's stderr too); exit 1."""
    detail = getattr(exc, "stderr", None)
    print(f"bench: {exc}{detail.decode() if detail else ''}", file=sys.stderr)
    return 1


# --------------------------------------------------------------------------- #
# The bare side: a Starlette app, served by uvicorn like `kimgraph serve` does. #
# --------------------------------------------------------------------------- #


def create_bare_app() -> Starlette:
    """A WebSocket endpoint that registers sockets, and POST /broadcast.

    /broadcast sends its request body as one text message to every registered
    socket, one ``await websocket.send_text(frame)`` after another (a plain loop,
    not ``asyncio.gather``), and answers once the last send returned.
    """
    sockets: set[WebSocket] = set()

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        sockets.add(websocket)
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
        finally:
            sockets.discard(websocket)

    async def broadcast(request: Request) -> Response:
        frame = (await request.body()).decode()
        sent = 0
        for websocket in list(sockets):
            try:
                await websocket.send_text(frame)
            except (OSError, RuntimeError, WebSocketDisconnect):
                sockets.discard(websocket)
            else:
                sent += 1
        return JSONResponse({"sent": sent})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "connections": len(sockets)})

    return Starlette(
        routes=[
            WebSocketRoute("/ws", endpoint),
            Route("/broadcast", broadcast, methods=["POST"]),
            Route("/healthz", healthz),
        ]
    )


def serve_bare(port: int) -> int:
    """uvicorn.run with the settings kimgraph.serve.serve uses."""
    uvicorn.run(
        "bench.fanout:create_bare_app",
        factory=True,
        host=HOST,
        port=port,
        workers=1,
        log_level="warning",
        ws_ping_interval=15,
        ws_ping_timeout=20,
        ws_per_message_deflate=False,
        proxy_headers=True,
    )
    return 0


# --------------------------------------------------------------------------- #
# Minimal client: raw HTTP/1.1 requests and a raw WebSocket client protocol.   #
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A response, with when the request was written and the response complete."""

    status: int
    body: bytes
    sent: float
    done: float

    def json(self) -> Any:
        return json.loads(self.body)


class _HttpExchange(asyncio.Protocol):
    """One request on its own connection; the response ends at Content-Length."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.result: asyncio.Future[tuple[int, bytes, float]] = loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.result.done():
            return
        head = self.buffer[:end].decode("latin-1").split("\r\n")
        length = None
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is not None and len(self.buffer) >= end + 4 + length:
            status = int(head[0].split()[1])
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            self.result.set_result((status, body, now))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.result.done():
            self.result.set_exception(
                BenchError(f"HTTP connection closed before a full response: {exc}")
            )


async def http_request(
    port: int,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """One request on a fresh connection, opened before the clock starts."""
    loop = asyncio.get_running_loop()
    transport, exchange = await loop.create_connection(
        partial(_HttpExchange, loop), HOST, port
    )
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {HOST}:{port}",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    try:
        sent = time.perf_counter()
        transport.write(request)
        status, payload, done = await asyncio.wait_for(exchange.result, ROUND_TIMEOUT_S)
    finally:
        transport.close()
    return HttpResponse(status, payload, sent, done)


async def graphql(
    port: int, query: str, variables: dict[str, Any], token: str | None = None
) -> HttpResponse:
    """POST /graphql; BenchError on HTTP or GraphQL errors."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables}).encode()
    response = await http_request(port, "POST", "/graphql", body, headers)
    if response.status != 200 or "errors" in response.json():
        raise BenchError(f"GraphQL {response.status}: {response.body[:500]!r}")
    return response


def mask_frame(opcode: int, payload: bytes) -> bytes:
    """A client-to-server WebSocket frame (FIN, masked)."""
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        header = bytes((0x80 | opcode, 0x80 | size))
    elif size < 65536:
        header = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
    key = (mask * (size // 4 + 1))[:size]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(
        size, "big"
    )
    return header + mask + masked


class Fleet:
    """What all connections of one phase share: setup frames and the round."""

    __slots__ = (
        "closing",
        "done",
        "expect",
        "failures",
        "graphql",
        "init_frame",
        "loop",
        "path",
        "peers",
        "port",
        "remaining",
        "subscribe_frame",
    )

    def __init__(
        self,
        port: int,
        *,
        graphql: bool,
        query: str = SUBSCRIPTION,
        variables: dict[str, Any] | None = None,
        operation_id: str = OPERATION_ID,
    ) -> None:
        self.port = port
        self.graphql = graphql
        self.path = "/graphql" if graphql else "/ws"
        self.loop = asyncio.get_running_loop()
        self.peers: list[Peer] = []
        self.failures: list[str] = []
        self.closing = False
        self.remaining = 0
        # Frames each peer must have for the round to be done.
        self.expect = 1
        self.done: asyncio.Future[float] = self.loop.create_future()
        self.init_frame = mask_frame(
            0x1, json.dumps({"type": "connection_init", "payload": {}}).encode()
        )
        self.subscribe_frame = mask_frame(
            0x1,
            json.dumps(
                {
                    "id": operation_id,
                    "type": "subscribe",
                    "payload": {
                        "query": query,
                        "variables": variables or {"region": REGION},
                    },
                }
            ).encode(),
        )

    def fail(self, message: str) -> None:
        if not self.closing and len(self.failures) < 1000:
            self.failures.append(message)

    def start_round(self, expect: int = 1, peers: int | None = None) -> None:
        for peer in self.peers:
            peer.arrivals.clear()
        self.expect = expect
        self.remaining = len(self.peers) if peers is None else peers
        self.done = self.loop.create_future()


class Peer(asyncio.Protocol):
    """One WebSocket connection; keeps (arrival time, text) of data frames."""

    __slots__ = ("_buffer", "_fleet", "_key", "_open", "arrivals", "ready", "transport")

    def __init__(self, fleet: Fleet) -> None:
        self._fleet = fleet
        self._buffer = b""
        self._open = False
        self._key = base64.b64encode(os.urandom(16))
        self.arrivals: list[tuple[float, bytes]] = []
        self.ready: asyncio.Future[None] = fleet.loop.create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        fleet = self._fleet
        lines = [
            f"GET {fleet.path} HTTP/1.1",
            f"Host: {HOST}:{fleet.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {self._key.decode()}",
            "Sec-WebSocket-Version: 13",
        ]
        if fleet.graphql:
            lines.append("Sec-WebSocket-Protocol: graphql-transport-ws")
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def connection_lost(self, exc: Exception | None) -> None:
        self._fleet.fail(f"connection lost: {exc}")
        if not self.ready.done():
            self.ready.set_exception(BenchError(f"connection lost: {exc}"))

    def _handshake(self, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        accept = base64.b64encode(hashlib.sha1(self._key + WS_GUID).digest()).decode()
        problem = None
        if lines[0].split()[1:2] != ["101"]:
            problem = f"handshake answered {lines[0]!r}"
        elif headers.get("sec-websocket-accept") != accept:
            problem = "wrong Sec-WebSocket-Accept"
        elif "sec-websocket-extensions" in headers:
            problem = f"unrequested extension {headers['sec-websocket-extensions']}"
        elif self._fleet.graphql and (
            headers.get("sec-websocket-protocol") != "graphql-transport-ws"
        ):
            problem = "graphql-transport-ws not accepted"
        if problem is not None:
            self._abort(problem)
            return
        self._open = True
        assert self.transport is not None
        if self._fleet.graphql:
            self.transport.write(self._fleet.init_frame)
        else:
            self.ready.set_result(None)

    def _abort(self, problem: str) -> None:
        self._fleet.fail(problem)
        if not self.ready.done():
            self.ready.set_exception(BenchError(problem))
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        if self._buffer:
            data = self._buffer + data
            self._buffer = b""
        if not self._open:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self._buffer = data
                return
            self._handshake(data[:end])
            if not self._open:
                return
            data = data[end + 4 :]
        size = len(data)
        position = 0
        while size - position >= 2:
            first = data[position]
            length = data[position + 1]
            start = position + 2
            if length > 125:
                if length & 0x80:
                    self._abort("the server masked a frame")
                    return
                if length == 126:
                    if size - position < 4:
                        break
                    length = int.from_bytes(data[start : start + 2], "big")
                    start += 2
                else:
                    if size - position < 10:
                        break
                    length = int.from_bytes(data[start : start + 8], "big")
                    start += 8
            end = start + length
            if end > size:
                break
            if first == 0x81:
                self._text(now, data[start:end])
            else:
                self._control(first, data[start:end])
            position = end
        if position < size:
            self._buffer = data[position:]

    def _text(self, now: float, payload: bytes) -> None:
        fleet = self._fleet
        if fleet.graphql and len(payload) < 80:
            message = json.loads(payload)
            kind = message.get("type")
            if kind == "ping":
                self._send(b'{"type":"pong"}')
                return
            if kind == "pong":
                return
            if kind == "connection_ack":
                assert self.transport is not None
                self.transport.write(fleet.subscribe_frame)
                if not self.ready.done():
                    self.ready.set_result(None)
                return
        if b'"next"' not in payload:
            fleet.fail(f"unexpected message {payload[:300]!r}")
            return
        arrivals = self.arrivals
        arrivals.append((now, payload))
        if len(arrivals) == fleet.expect:
            fleet.remaining -= 1
            if fleet.remaining == 0 and not fleet.done.done():
                fleet.done.set_result(now)

    def _send(self, text: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(mask_frame(0x1, text))

    def _control(self, first: int, payload: bytes) -> None:
        if first == 0x89 and self.transport is not None:  # ping: pong, same data
            self.transport.write(mask_frame(0xA, payload))
        elif first == 0x8A:  # pong
            return
        elif first == 0x88:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
            self._abort(f"server closed the connection: {code} {payload[2:]!r}")
        else:
            self._abort(f"unsupported frame, first byte {first:#x}")


async def connect_all(
    fleet: Fleet, count: int, concurrency: int = CONNECT_CONCURRENCY
) -> float:
    """Open count connections, `concurrency` handshakes at a time; seconds."""
    loop = fleet.loop
    gate = asyncio.Semaphore(concurrency)
    started = time.perf_counter()

    async def one() -> None:
        async with gate:
            _, peer = await asyncio.wait_for(
                loop.create_connection(partial(Peer, fleet), HOST, fleet.port),
                HANDSHAKE_TIMEOUT_S,
            )
            fleet.peers.append(peer)
            await asyncio.wait_for(peer.ready, HANDSHAKE_TIMEOUT_S)

    results = await asyncio.gather(
        *(one() for _ in range(count)), return_exceptions=True
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise BenchError(
            f"{len(errors)} of {count} connections failed; first: {errors[0]!r}; "
            f"{fleet.failures[:3]}"
        )
    return time.perf_counter() - started


async def close_all(fleet: Fleet) -> None:
    """Reset every connection (SO_LINGER 0: no TIME_WAIT left behind)."""
    fleet.closing = True
    for peer in fleet.peers:
        if peer.transport is not None:
            sock = peer.transport.get_extra_info("socket")
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
            peer.transport.abort()
    fleet.peers.clear()
    await asyncio.sleep(0.1)


# --------------------------------------------------------------------------- #
# Server processes and what /proc says about them.                              #
# --------------------------------------------------------------------------- #


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def pinned(cpus: set[int]) -> Callable[[], None] | None:
    """A preexec_fn that pins the child to cpus, on a machine with 2+ CPUs."""
    if (os.cpu_count() or 1) < 2:
        return None
    return partial(os.sched_setaffinity, 0, cpus)


@dataclass(frozen=True, slots=True)
class ServerProcess:
    pid: int
    port: int
    log: Path

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise BenchError(f"no VmRSS for pid {self.pid}")

    def cpu_ns(self) -> tuple[int, int]:
        """The main (event loop) thread's time on a CPU and waiting for one, ns."""
        return schedstat(Path(f"/proc/{self.pid}/schedstat"))


def schedstat(path: Path) -> tuple[int, int]:
    """(ns on a CPU, ns runnable but waiting for one) of one thread."""
    ran, waited, _ = path.read_text().split()
    return int(ran), int(waited)


def own_cpu_ns() -> tuple[int, int]:
    """schedstat of this (the client's event loop) thread."""
    return schedstat(Path("/proc/thread-self/schedstat"))


def _healthy(port: int) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://{HOST}:{port}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


@contextmanager
def server_process(
    argv: Sequence[str], env: dict[str, str], folder: Path, port: int
) -> Iterator[ServerProcess]:
    """A server child pinned to SERVER_CPU, healthy; SIGTERM (then kill) after."""
    log = folder / f"server-{port}.log"
    with log.open("wb") as out:
        child = subprocess.Popen(
            argv,
            cwd=Path(__file__).resolve().parent.parent,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=pinned({SERVER_CPU}),
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _healthy(port):
            if child.poll() is not None:
                raise BenchError(f"server exited early:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise BenchError(f"server not healthy:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield ServerProcess(child.pid, port, log)
        if child.poll() is not None:
            raise BenchError(f"server died:\n{log.read_text()[-3000:]}")
        output = log.read_text(errors="replace")
        if "Traceback" in output or "ERROR" in output:
            _log(
                f"  the server logged errors (last 3000 characters):\n{output[-3000:]}"
            )
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@contextmanager
def kimgraph_server(
    database: AbstractContextManager[str],
    folder: Path,
    monitor: Path | None = None,
) -> Iterator[ServerProcess]:
    """`kimgraph serve` on a fresh database, with an admin account.

    With `monitor`, the same app and uvicorn settings, started by this module
    so that the server's loop lag and GC pauses are written to that file.
    """
    with database as url:
        env = {
            "KIMGRAPH_DATABASE_URL": url,
            "KIMGRAPH_LOG_LEVEL": "warning",
            # Every bench subscriber comes from 127.0.0.1: lift the per-address cap.
            "KIMGRAPH_WS_MAX_PER_ADDRESS": "1000000",
        }
        port = free_port()
        argv = [sys.executable, "-m", "kimgraph.cli", "serve", "--port", str(port)]
        if monitor is not None:
            env["BENCH_MONITOR_FILE"] = str(monitor)
            argv = [
                sys.executable,
                "-m",
                "bench.fanout",
                "--monitored-server",
                str(port),
            ]
        with server_process(argv, env, folder, port) as server:
            cli(env, folder, "accounts", "create", *ADMIN_OPTIONS)
            yield server


ADMIN_OPTIONS = (
    *("--username", ADMIN_USERNAME, "--role", "ADMIN"),
    *("--region", ADMIN_REGION, "--password", ADMIN_PASSWORD),
)


def cli(
    env: dict[str, str], folder: Path, *args: str, module: str = "kimgraph.cli"
) -> bytes:
    """Run a command against the server's database (`kimgraph …`); its output."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env={**os.environ, **env},
        cwd=folder,
        capture_output=True,
        timeout=300,
        check=True,
    ).stdout


@contextmanager
def bare_server(folder: Path) -> Iterator[ServerProcess]:
    port = free_port()
    argv = [sys.executable, "-m", "bench.fanout", "--bare-server", str(port)]
    with server_process(argv, {}, folder, port) as server:
        yield server


async def wait_idle(server: ServerProcess, limit_s: float = 60.0) -> None:
    """Until the server's loop uses under IDLE_SHARE of a CPU for two windows.

    Not zero: keepalive pings of N idle connections cost some CPU all the time.
    """
    deadline = time.monotonic() + limit_s
    quiet = 0
    while quiet < 2 and time.monotonic() < deadline:
        before = server.cpu_ns()[0]
        await asyncio.sleep(IDLE_WINDOW_S)
        used = (server.cpu_ns()[0] - before) / 1e9
        quiet = quiet + 1 if used < IDLE_SHARE * IDLE_WINDOW_S else 0


async def idle_cpu_share(server: ServerProcess) -> float:
    """The share of a CPU the server's loop uses over IDLE_MEASURE_S."""
    before = server.cpu_ns()[0]
    await asyncio.sleep(IDLE_MEASURE_S)
    return (server.cpu_ns()[0] - before) / 1e9 / IDLE_MEASURE_S


# --------------------------------------------------------------------------- #
# Rounds                                                                      #
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, slots=True)
class Round:
    """One event to every subscriber, times in seconds from the request write."""

    latencies: list[float]
    request_s: float
    server_cpu_s: float
    server_wait_s: float
    client_cpu_s: float
    client_wait_s: float

    @property
    def last(self) -> float:
        return max(self.latencies)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def _wait_for_everyone(fleet: Fleet, deadline_s: float, quiet_s: float) -> bool:
    """True once every peer has an arrival; False after quiet_s without progress."""
    start = last_change = time.monotonic()
    seen = fleet.remaining
    while fleet.remaining > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(fleet.done), 0.5)
        now = time.monotonic()
        if fleet.remaining != seen:
            seen, last_change = fleet.remaining, now
        elif now - last_change > quiet_s or now - start > deadline_s:
            return False
    return True


def _check_failures(fleet: Fleet) -> None:
    if fleet.failures:
        raise BenchError(
            f"{len(fleet.failures)} connection failure(s); first: {fleet.failures[:3]}"
        )


async def measure_round(
    fleet: Fleet,
    server: ServerProcess,
    trigger: Callable[[], Awaitable[HttpResponse]],
    check: Callable[[bytes], str | None],
) -> Round:
    """Trigger one event; every peer must get exactly one frame that check accepts."""
    _check_failures(fleet)
    fleet.start_round()
    gc.collect()
    gc.disable()
    try:
        ran, waited = server.cpu_ns()
        client_ran, client_waited = own_cpu_ns()
        response = await trigger()
        everyone = await _wait_for_everyone(fleet, ROUND_TIMEOUT_S, ROUND_TIMEOUT_S)
        client_ran_after, client_waited_after = own_cpu_ns()
        ran_after, waited_after = server.cpu_ns()
    finally:
        gc.enable()
    if not everyone:
        raise BenchError(
            f"{fleet.remaining} of {len(fleet.peers)} subscribers did not get the "
            f"event within {ROUND_TIMEOUT_S:.0f} s; failures: {fleet.failures[:3]}"
        )
    await asyncio.sleep(SETTLE_S)
    _check_failures(fleet)
    latencies = []
    for peer in fleet.peers:
        if len(peer.arrivals) != 1:
            raise BenchError(f"a subscriber got {len(peer.arrivals)} frames, not 1")
        arrived, payload = peer.arrivals[0]
        problem = check(payload)
        if problem is not None:
            raise BenchError(problem)
        latencies.append(arrived - response.sent)
    return Round(
        latencies,
        response.done - response.sent,
        (ran_after - ran) / 1e9,
        (waited_after - waited) / 1e9,
        (client_ran_after - client_ran) / 1e9,
        (client_waited_after - client_waited) / 1e9,
    )


@dataclass(slots=True)
class PhaseResult:
    """One system at one N."""

    system: str
    n: int
    rounds: list[Round] = field(default_factory=list)
    rss_before_kib: int = 0
    rss_idle_kib: int = 0
    connect_s: float = 0.0
    warmups: int = 0
    idle_cpu: float = 0.0

    @property
    def kib_per_connection(self) -> float:
        return (self.rss_idle_kib - self.rss_before_kib) / self.n

    def median(self, value: Callable[[Round], float]) -> float:
        return statistics.median(value(r) for r in self.rounds)


# One round's trigger and the check of the frame every subscriber must get.
Event = tuple[Callable[[], Awaitable[HttpResponse]], Callable[[bytes], str | None]]


async def measure_rounds(
    result: PhaseResult,
    fleet: Fleet,
    server: ServerProcess,
    runs: int,
    event: Callable[[], Event],
) -> None:
    """`runs` measured rounds, each of a new event, logged; the server idle after."""
    for run in range(1, runs + 1):
        r = await measure_round(fleet, server, *event())
        result.rounds.append(r)
        _log_round(result, run, runs, r)
        await wait_idle(server)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _log_idle(result: PhaseResult) -> None:
    _log(
        f"  {result.system} N={result.n:,}: VmRSS {result.rss_before_kib / 1024:.0f}"
        f" -> {result.rss_idle_kib / 1024:.0f} MiB with N idle subscribers "
        f"({result.kib_per_connection:.1f} KiB each); idle server CPU "
        f"{result.idle_cpu:.1%}"
    )


def _log_round(result: PhaseResult, run: int, runs: int, r: Round) -> None:
    _log(
        f"  {result.system} N={result.n:,} run {run}/{runs}: last "
        f"{r.last * 1e3:.1f} ms, p50 {r.percentile(50) * 1e3:.1f} ms, p99 "
        f"{r.percentile(99) * 1e3:.1f} ms, request {r.request_s * 1e3:.1f} ms, "
        f"server CPU {r.server_cpu_s * 1e3:.0f} ms (waited for a CPU "
        f"{r.server_wait_s * 1e3:.0f} ms), client CPU {r.client_cpu_s * 1e3:.0f} ms"
        f" (waited {r.client_wait_s * 1e3:.0f} ms)"
    )


def _frame_check(title: str, checked: list[bytes]) -> Callable[[bytes], str | None]:
    """Accepts the `next` frame of the announcement with this title."""
    return frame_check(
        lambda data: data["announcementEvents"]["announcement"]["title"] == title,
        checked,
    )


def frame_check(
    accepts: Callable[[Any], bool], checked: list[bytes] | None = None
) -> Callable[[bytes], str | None]:
    """Accepts a `next` frame of OPERATION_ID whose data `accepts` (checked once)."""
    seen: dict[bytes, str | None] = {}

    def check(payload: bytes) -> str | None:
        if payload in seen:  # identical frames: checked once
            return seen[payload]
        try:
            message = json.loads(payload)
            ok = (
                message["type"] == "next"
                and message["id"] == OPERATION_ID
                and accepts(message["payload"]["data"])
            )
        except (ValueError, KeyError, TypeError):
            ok = False
        problem = None if ok else f"unexpected frame {payload[:300]!r}"
        seen[payload] = problem
        if checked is not None:
            checked.append(payload)
        return problem

    return check


class Publisher:
    """Publishes announcements to REGION as the admin."""

    def __init__(self, port: int, token: str, tag: str) -> None:
        self.port = port
        self.token = token
        self.tag = tag
        self.count = 0
        self.body_chars = WARMUP_BODY_CHARS

    def next_title(self) -> str:
        self.count += 1
        return f"Fan-out {self.tag} {self.count:04d}"

    def body(self) -> str:
        text = "Pemberitahuan untuk warga desa: " + "air bersih tersedia lagi. " * 400
        return text[: self.body_chars]

    async def publish(self, title: str) -> HttpResponse:
        variables = {
            "input": {
                "title": title,
                "body": self.body(),
                "category": "GENERAL",
                "targets": [REGION],
            }
        }
        response = await graphql(self.port, PUBLISH, variables, self.token)
        payload = response.json()["data"]["announcementPublish"]
        if payload["userErrors"]:
            raise BenchError(f"announcementPublish: {payload['userErrors']}")
        return response


async def _warm_up(fleet: Fleet, trigger: Callable[[], Awaitable[HttpResponse]]) -> int:
    """Events until one reaches every subscriber: all subscriptions are live."""
    for attempt in range(1, WARMUP_ATTEMPTS + 1):
        _check_failures(fleet)
        fleet.start_round()
        await trigger()
        if await _wait_for_everyone(fleet, ROUND_TIMEOUT_S, WARMUP_QUIET_S):
            await asyncio.sleep(SETTLE_S)
            return attempt
        _log(f"  warm-up {attempt}: {fleet.remaining} subscribers still missing")
    raise BenchError(f"{fleet.remaining} subscribers never got a warm-up event")


@dataclass(slots=True)
class Profile:
    """Where py-spy's raw output for the KIMgraph server goes."""

    folder: Path
    rounds: int


async def measure_kimgraph(
    server: ServerProcess, n: int, runs: int, profile: Profile | None
) -> tuple[PhaseResult, bytes]:
    """The KIMgraph phase; its result and the last frame a subscriber got."""
    result = PhaseResult(KIMGRAPH, n)
    token_response = await graphql(
        server.port,
        TOKEN_CREATE,
        {"i": {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}},
    )
    token = token_response.json()["data"]["tokenCreate"]["token"]
    cursor_response = await graphql(
        server.port, QUERY_CURSOR, {"region": REGION}, token
    )
    event_cursor = cursor_response.json()["data"]["announcements"]["eventCursor"]
    publisher = Publisher(server.port, token, secrets.token_hex(3))
    await wait_idle(server)
    result.rss_before_kib = server.rss_kib()
    fleet = Fleet(server.port, graphql=True)
    try:
        result.connect_s = await connect_all(fleet, n)
        _log(
            f"  {KIMGRAPH} N={n:,}: connected and subscribed in "
            f"{result.connect_s:.1f} s (eventCursor before: {event_cursor})"
        )
        await wait_idle(server)
        result.warmups = await _warm_up(
            fleet, lambda: publisher.publish(publisher.next_title())
        )
        # Size the measured bodies so that the frame is about TARGET_FRAME_BYTES.
        frame_bytes = len(fleet.peers[0].arrivals[0][1])
        publisher.body_chars = max(
            1, WARMUP_BODY_CHARS - (frame_bytes - TARGET_FRAME_BYTES)
        )
        await wait_idle(server)
        result.rss_idle_kib = server.rss_kib()
        result.idle_cpu = await idle_cpu_share(server)
        _log_idle(result)
        frames: list[bytes] = []

        def publish() -> Event:
            title = publisher.next_title()
            return partial(publisher.publish, title), _frame_check(title, frames)

        await measure_rounds(result, fleet, server, runs, publish)
        if profile is not None:
            await _profile(fleet, server, publisher, profile, n)
    finally:
        await close_all(fleet)
    return result, frames[-1]


async def _profile(
    fleet: Fleet,
    server: ServerProcess,
    publisher: Publisher,
    profile: Profile,
    n: int,
) -> None:
    """py-spy record over extra (unmeasured) publishes; raw stacks + a summary."""
    spy = Path(sys.executable).with_name("py-spy")
    raw = profile.folder / f"kimgraph-n{n}.txt"
    process = await asyncio.create_subprocess_exec(
        *(str(spy), "record", "--pid", str(server.pid), "--rate", "250"),
        *("--format", "raw", "--output", str(raw)),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(2.0)
    for _ in range(profile.rounds):
        title = publisher.next_title()
        await measure_round(
            fleet, server, partial(publisher.publish, title), _frame_check(title, [])
        )
    process.send_signal(signal.SIGINT)
    await process.wait()
    summary = summarize_profile(raw)
    (profile.folder / f"kimgraph-n{n}-summary.txt").write_text(summary)
    _log(f"  py-spy: {raw}\n{summary}")


def summarize_profile(raw: Path, top: int = 25) -> str:
    """Shares of py-spy's raw (collapsed) stacks: by what the event loop ran, by
    function (self), and by function (inclusive). Stacks py-spy cut short (no
    event loop frame) count as "?".
    """
    callbacks: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f.split(" (", 1)[0] + _where(f) for f in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
        callbacks[_callback(frames)] += count
    if total == 0:
        return "no samples\n"

    def section(title: str, counter: Counter[str]) -> list[str]:
        rows = [f"  {c / total:6.1%}  {name}" for name, c in counter.most_common(top)]
        return ["", title, *rows]

    lines = [f"{total} samples (active only)"]
    lines += section(
        "what the event loop ran (callback or task, first frames):", callbacks
    )
    lines += section("self:", own)
    lines += section("inclusive:", inclusive)
    return "\n".join(lines) + "\n"


def _callback(frames: list[str]) -> str:
    """The two frames under the event loop's Handle._run, or the loop's own work."""
    names = [f.split(" (", 1)[0] for f in frames]
    if "Handle._run" in names:
        at = names.index("Handle._run")
        return " > ".join(names[at + 1 : at + 3]) or "Handle._run"
    for at, name in enumerate(names):
        if name == "BaseEventLoop._run_once":
            return "event loop: " + (" > ".join(names[at + 1 : at + 2]) or "itself")
    return "?"


def _where(frame: str) -> str:
    """' (file)' without the line number."""
    _, _, rest = frame.partition(" (")
    return f" ({rest.rsplit(':', 1)[0]})" if rest else ""


async def measure_bare(
    server: ServerProcess, n: int, runs: int, frame: bytes
) -> PhaseResult:
    """The bare Starlette phase with the captured KIMgraph frame."""
    result = PhaseResult(BARE, n)

    def broadcast() -> Awaitable[HttpResponse]:
        return http_request(
            server.port,
            "POST",
            "/broadcast",
            frame,
            {"Content-Type": "text/plain; charset=utf-8"},
        )

    def check(payload: bytes) -> str | None:
        return None if payload == frame else f"unexpected frame {payload[:300]!r}"

    await wait_idle(server)
    result.rss_before_kib = server.rss_kib()
    fleet = Fleet(server.port, graphql=False)
    try:
        result.connect_s = await connect_all(fleet, n)
        _log(f"  {BARE} N={n:,}: connected in {result.connect_s:.1f} s")
        await wait_idle(server)
        result.warmups = await _warm_up(fleet, broadcast)
        await wait_idle(server)
        result.rss_idle_kib = server.rss_kib()
        result.idle_cpu = await idle_cpu_share(server)
        _log_idle(result)
        await measure_rounds(result, fleet, server, runs, lambda: (broadcast, check))
    finally:
        await close_all(fleet)
    return result


# --------------------------------------------------------------------------- #
# Resume storm (issue 12): N boards subscribing with `after` at once.          #
# --------------------------------------------------------------------------- #

BOARD_JS = Path(__file__).resolve().parent.parent / "kimgraph" / "board" / "board.js"
BOARD_OPERATION_ID = "board"
STORM_MISSED = 20
# Handshakes in flight at once during the storm: on a loaded 2-core machine 200
# let a few sockets wait past the 3 s connection_init timeout (4408) behind the
# others' handshakes; boards behind one NAT do not all open at once either.
STORM_CONCURRENCY = 100
SINGLE_MISSED = 10_000
# The monitor's probe: a 10 ms sleep, and how late it wakes.
MONITOR_TICK_S = 0.01
MONITOR_WRITE_S = 0.25
# The monitored server's own route: one full GC pass, timed (after the storm).
FULL_GC_PATH = "/bench/full-gc"


def board_subscription() -> str:
    """The board's own subscription document, as board.js builds it."""
    text = BOARD_JS.read_text()
    fields = re.search(r"const FIELDS = '([^']*)';", text)
    document = re.search(r"const SUBSCRIPTION = `([^`]*)`;", text)
    if fields is None or document is None:
        raise BenchError(f"no FIELDS or SUBSCRIPTION in {BOARD_JS}")
    return document.group(1).replace("${FIELDS}", fields.group(1))


def create_monitored_app() -> Any:
    """kimgraph.app.create_app(), whose loop lag and GC pauses are recorded.

    The first request starts a task that sleeps MONITOR_TICK_S and notes how
    late it woke, and gc.callbacks time every collection; every
    MONITOR_WRITE_S a JSON line (wall time, worst lag, worst GC pause since the
    last line, in seconds) goes to $BENCH_MONITOR_FILE.
    """
    from kimgraph.app import create_app

    app = create_app()
    path = Path(os.environ["BENCH_MONITOR_FILE"])
    started: list[asyncio.Task[None]] = []

    async def monitored(scope: Any, receive: Any, send: Any) -> None:
        if not started and scope["type"] != "lifespan":
            started.append(asyncio.create_task(_monitor(path)))
        if scope["type"] == "http" and scope["path"] == FULL_GC_PATH:
            await _full_gc(send)
            return
        await app(scope, receive, send)

    return monitored


async def _full_gc(send: Any) -> None:
    """Answer with the CPU time (s) of one full collection, what it looked at
    (frozen objects included) and the unreachable objects it found."""
    gc.unfreeze()
    everything = gc.get_objects()
    tracked = len(everything)
    held: list[tuple[str, int]] = []
    if os.environ.get("BENCH_HELD"):  # inherited from the bench's own process
        held = Counter(type(o).__qualname__ for o in everything).most_common(40)
        held += Counter(
            f"{o.cr_code.co_filename.rsplit('/', 2)[-1]}:{o.cr_code.co_qualname}"
            for o in everything
            if isinstance(o, types.CoroutineType)
        ).most_common(30)
    del everything
    started = time.thread_time()
    gc.set_debug(gc.DEBUG_SAVEALL)
    collected = gc.collect()
    cpu = time.thread_time() - started
    gc.set_debug(0)
    gc.freeze()  # back as kimgraph.memory.Freezer keeps it: the survivors frozen
    kinds = Counter(type(o).__qualname__ for o in gc.garbage).most_common(12)
    frames = Counter(
        f"{o.f_code.co_filename.rsplit('/', 2)[-1]}:{o.f_code.co_name}"
        for o in gc.garbage
        if isinstance(o, types.FrameType)
    ).most_common(12)
    gc.garbage.clear()
    body = json.dumps(
        {
            "cpu": cpu,
            "tracked": tracked,
            "collected": collected,
            "kinds": kinds,
            "frames": frames,
            "held": held,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _monitor(path: Path) -> None:
    # Since the last line: the longest pass (wall time), and per generation
    # the most CPU time of the loop thread in one pass (the rest of a pass's
    # wall time is waiting for a CPU).
    worst_gc = [0.0]
    worst_cpu = [0.0, 0.0, 0.0]
    gc_started = [0.0, 0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            gc_started[:] = [time.perf_counter(), time.thread_time()]
            return
        generation = info["generation"]
        worst_gc[0] = max(worst_gc[0], time.perf_counter() - gc_started[0])
        cpu = time.thread_time() - gc_started[1]
        worst_cpu[generation] = max(worst_cpu[generation], cpu)

    gc.callbacks.append(on_gc)
    loop = asyncio.get_running_loop()
    worst_lag = 0.0
    last_write = loop.time()
    with path.open("a") as out:
        while True:
            before = loop.time()
            await asyncio.sleep(MONITOR_TICK_S)
            now = loop.time()
            worst_lag = max(worst_lag, now - before - MONITOR_TICK_S)
            if now - last_write >= MONITOR_WRITE_S:
                line = {
                    "t": time.time(),
                    "lag": worst_lag,
                    "gc": worst_gc[0],
                    "gc_cpu": list(worst_cpu),
                }
                out.write(json.dumps(line) + "\n")
                out.flush()
                worst_lag, last_write = 0.0, now
                worst_gc[0] = 0.0
                worst_cpu[:] = [0.0, 0.0, 0.0]


def serve_monitored(
    port: int, factory: str = "bench.fanout:create_monitored_app"
) -> int:
    """kimgraph.cli's serve, with the app factory's app (create_monitored_app's)."""
    from kimgraph.db import run_closing
    from kimgraph.serve import prepare_database
    from kimgraph.settings import Settings

    settings = Settings.from_env()
    run_closing(prepare_database(settings))
    profile_path = os.environ.get("BENCH_SERVER_CPROFILE")
    if profile_path:
        # cProfile of the whole serving process, written when it exits;
        # uvicorn raises the SIGTERM it caught again once it has shut down.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            _serve_monitored(port, factory, settings.ws_max_bytes)
        finally:
            profiler.disable()
            profiler.dump_stats(profile_path)
        return 0
    _serve_monitored(port, factory, settings.ws_max_bytes)
    return 0


def _serve_monitored(port: int, factory: str, ws_max_bytes: int) -> None:
    from kimgraph.http_protocol import HttpProtocol

    uvicorn.run(
        factory,
        factory=True,
        host=HOST,
        port=port,
        workers=1,
        log_level="warning",
        http=HttpProtocol,  # as kimgraph.serve
        ws_ping_interval=15,
        ws_ping_timeout=20,
        ws_per_message_deflate=False,
        ws_max_size=ws_max_bytes,
        proxy_headers=True,
    )


@dataclass(slots=True)
class Worst:
    """The worst loop lag and GC passes a server's monitor wrote over a time."""

    lag_s: float = 0.0
    gc_s: float = 0.0
    # Per generation, the most CPU time one pass took.
    gc_cpu_s: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])


def monitor_worst(path: Path, start: float, end: float) -> Worst:
    """The worst loop lag and GC passes the server wrote between two times."""
    worst = Worst()
    for line in path.read_text().splitlines():
        sample = json.loads(line)
        # A line covers the MONITOR_WRITE_S before its time.
        if start <= sample["t"] <= end + MONITOR_WRITE_S:
            worst.lag_s = max(worst.lag_s, sample["lag"])
            worst.gc_s = max(worst.gc_s, sample["gc"])
            worst.gc_cpu_s = [
                max(a, b) for a, b in zip(worst.gc_cpu_s, sample["gc_cpu"], strict=True)
            ]
    return worst


def _per_generation(seconds: list[float]) -> str:
    return "/".join(f"{s * 1e3:.0f}" for s in seconds)


def _titles(peer: Peer) -> list[str]:
    titles = []
    for _, payload in peer.arrivals:
        message = json.loads(payload)
        if message.get("type") != "next" or message.get("id") != BOARD_OPERATION_ID:
            raise BenchError(f"unexpected frame {payload[:300]!r}")
        titles.append(
            message["payload"]["data"]["announcementEvents"]["announcement"]["title"]
        )
    return titles


@dataclass(slots=True)
class StormResult:
    """One resume storm and the live event after it."""

    n: int
    caught_up_s: float = 0.0
    connect_s: float = 0.0
    kib_per_connection: float = 0.0
    worst_lag_s: float = 0.0
    worst_gc_s: float = 0.0
    # Per generation, the most CPU time one pass took.
    worst_gc_cpu_s: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    # One full collection with all N live: its CPU time, the objects not frozen.
    full_gc_cpu_s: float = 0.0
    full_gc_tracked: int = 0
    garbage_per_closed: float = 0.0
    live: Round | None = None
    bare: PhaseResult | None = None
    single_s: float = 0.0
    # The server's loop thread during the single replay: on a CPU, waiting.
    single_cpu_s: float = 0.0
    single_wait_s: float = 0.0

    @property
    def ratio(self) -> float:
        assert self.live is not None
        assert self.bare is not None
        return self.live.last / self.bare.median(lambda r: r.last)


async def _publish_many(publisher: Publisher, count: int) -> list[str]:
    titles = []
    for _ in range(count):
        title = publisher.next_title()
        await publisher.publish(title)
        titles.append(title)
    return titles


async def _until_metric(
    server: ServerProcess, name: str, holds: Callable[[float], bool], what: str
) -> None:
    """Until a metric of the server's /metrics holds; BenchError after the deadline."""
    deadline = time.monotonic() + ROUND_TIMEOUT_S
    while time.monotonic() < deadline:
        response = await http_request(server.port, "GET", "/metrics")
        for line in response.body.decode().splitlines():
            metric, _, value = line.partition(" ")
            if metric == name and holds(float(value)):
                return
        await asyncio.sleep(0.2)
    raise BenchError(what)


async def _server_sockets_gone(server: ServerProcess) -> None:
    """Until the server has let go of every WebSocket (the closes are async)."""
    await _until_metric(
        server,
        "kimgraph_websocket_connections",
        lambda open_sockets: open_sockets == 0,
        "the server never let go of every WebSocket",
    )
    await wait_idle(server)


async def _hub_reached(server: ServerProcess, position: int) -> None:
    """Until the server's hub has read the log through position (/metrics)."""
    await _until_metric(
        server,
        "kimgraph_event_log_position",
        lambda read: read >= position,
        f"the server's hub never read the log through {position}",
    )


def _append_events(url: str, count: int) -> int:
    """`count` copies of the newest announcement event, appended to the log.

    Written straight to the SQLite file: publishing 10,000 announcements over
    HTTP would take minutes. Each replays as an event of that announcement.
    """
    path = url.removeprefix("sqlite:///").removeprefix("sqlite://")
    with sqlite3.connect(path, timeout=30) as db:
        row = db.execute(
            "SELECT id, stream, kind, entity_id, regions, occurred_at FROM event "
            "WHERE stream = 'announcement' ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if row is None:
            raise BenchError("no announcement event to copy")
        newest, *rest = row
        db.executemany(
            "INSERT INTO event (id, stream, kind, entity_id, regions, occurred_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            ((newest + i, *rest) for i in range(1, count + 1)),
        )
    return int(newest) + count


async def measure_storm(
    server: ServerProcess, n: int, url: str, monitor: Path
) -> tuple[StormResult, bytes]:
    """N board subscriptions resuming 20 events back; then one live event."""
    result = StormResult(n)
    token = (
        await graphql(
            server.port,
            TOKEN_CREATE,
            {"i": {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}},
        )
    ).json()["data"]["tokenCreate"]["token"]
    publisher = Publisher(server.port, token, secrets.token_hex(3))
    publisher.body_chars = 120
    query_cursor = (
        await graphql(server.port, QUERY_CURSOR, {"region": REGION}, token)
    ).json()["data"]["announcements"]["eventCursor"]
    missed = await _publish_many(publisher, STORM_MISSED)
    await wait_idle(server)
    rss_before = server.rss_kib()
    fleet = Fleet(
        server.port,
        graphql=True,
        query=board_subscription(),
        variables={"region": REGION, "after": query_cursor},
        operation_id=BOARD_OPERATION_ID,
    )
    frame = b""
    try:
        fleet.start_round(STORM_MISSED, n)
        wall_start = time.time()
        started = time.perf_counter()
        result.connect_s = await connect_all(fleet, n, STORM_CONCURRENCY)
        everyone = await _wait_for_everyone(fleet, ROUND_TIMEOUT_S, WARMUP_QUIET_S)
        if not everyone:
            raise BenchError(f"{fleet.remaining} subscribers never caught up")
        result.caught_up_s = fleet.done.result() - started
        wall_end = time.time()
        await asyncio.sleep(SETTLE_S)
        _check_failures(fleet)
        for peer in fleet.peers:
            if _titles(peer) != missed:
                raise BenchError(
                    f"a subscriber replayed {len(peer.arrivals)} events, not the "
                    f"{STORM_MISSED} missed ones in order"
                )
        await asyncio.sleep(2 * MONITOR_WRITE_S)
        worst = monitor_worst(monitor, wall_start, wall_end)
        result.worst_lag_s, result.worst_gc_s = worst.lag_s, worst.gc_s
        result.worst_gc_cpu_s = worst.gc_cpu_s
        await wait_idle(server)
        result.kib_per_connection = (server.rss_kib() - rss_before) / n
        _log(
            f"  storm N={n:,}: connected in {result.connect_s:.1f} s, all caught up "
            f"{result.caught_up_s:.2f} s after the first connect; "
            f"{result.kib_per_connection:.1f} KiB per connection live; worst loop "
            f"lag {result.worst_lag_s * 1e3:.0f} ms, worst GC pause "
            f"{result.worst_gc_s * 1e3:.0f} ms; most CPU in one pass of "
            f"generation 0/1/2: {_per_generation(result.worst_gc_cpu_s)} ms"
        )
        title = publisher.next_title()
        checked: list[bytes] = []

        def check(payload: bytes) -> str | None:
            message = json.loads(payload)
            event = message["payload"]["data"]["announcementEvents"]
            ok = message["id"] == BOARD_OPERATION_ID and (
                event["announcement"]["title"] == title
            )
            checked.append(payload)
            return None if ok else f"unexpected frame {payload[:300]!r}"

        result.live = await measure_round(
            fleet, server, partial(publisher.publish, title), check
        )
        frame = checked[-1]
        _log(
            f"  storm N={n:,}: the first event after it reached the last subscriber "
            f"in {result.live.last * 1e3:.1f} ms (p50 "
            f"{result.live.percentile(50) * 1e3:.1f} ms)"
        )
        full = json.loads((await http_request(server.port, "GET", FULL_GC_PATH)).body)
        result.full_gc_cpu_s, result.full_gc_tracked = full["cpu"], full["tracked"]
        if os.environ.get("BENCH_HELD"):
            _log(f"  held with N live: {full['held']}")
        _log(
            f"  storm N={n:,}: one full GC pass with them all live took "
            f"{result.full_gc_cpu_s * 1e3:.0f} ms of CPU over "
            f"{result.full_gc_tracked:,} tracked objects"
        )
    finally:
        await close_all(fleet)
    # What the closed sockets left to the cyclic collector: the previous full
    # pass (with them all live) found the rest.
    await _server_sockets_gone(server)
    full = json.loads((await http_request(server.port, "GET", FULL_GC_PATH)).body)
    result.garbage_per_closed = full["collected"] / n
    _log(
        f"  storm N={n:,}: closed, they left {full['collected']:,} objects of cyclic "
        f"garbage ({result.garbage_per_closed:.1f} per connection): "
        f"{full['kinds']}; frames {full['frames']}"
    )
    # One subscriber that missed SINGLE_MISSED events.
    cursor = (
        await graphql(server.port, QUERY_CURSOR, {"region": REGION}, token)
    ).json()["data"]["announcements"]["eventCursor"]
    newest = _append_events(url, SINGLE_MISSED)
    await _hub_reached(server, newest)
    single = Fleet(
        server.port,
        graphql=True,
        query=board_subscription(),
        variables={"region": REGION, "after": cursor},
        operation_id=BOARD_OPERATION_ID,
    )
    try:
        single.start_round(SINGLE_MISSED, 1)
        ran, waited = server.cpu_ns()
        started = time.perf_counter()
        await connect_all(single, 1)
        if not await _wait_for_everyone(single, ROUND_TIMEOUT_S, ROUND_TIMEOUT_S):
            got = len(single.peers[0].arrivals)
            raise BenchError(f"the single subscriber got {got} of {SINGLE_MISSED}")
        result.single_s = single.done.result() - started
        ran_after, waited_after = server.cpu_ns()
        result.single_cpu_s = (ran_after - ran) / 1e9
        result.single_wait_s = (waited_after - waited) / 1e9
        await asyncio.sleep(SETTLE_S)
        _check_failures(single)
        if len(single.peers[0].arrivals) != SINGLE_MISSED:
            raise BenchError(
                f"{len(single.peers[0].arrivals)} frames, not {SINGLE_MISSED}"
            )
        _log(
            f"  one subscriber replayed {SINGLE_MISSED:,} events in "
            f"{result.single_s:.2f} s (server CPU {result.single_cpu_s:.2f} s, "
            f"waited for a CPU {result.single_wait_s:.2f} s)"
        )
    finally:
        await close_all(single)
    return result, frame


def run_storm(args: argparse.Namespace) -> int:
    """--storm: the resume storm, then the bare broadcast of its frame."""
    results: list[StormResult] = []
    try:
        for n in args.n:
            for run in range(1, args.runs + 1):
                with tempfile.TemporaryDirectory(prefix="kimgraph-storm-") as tmp:
                    folder = Path(tmp)
                    monitor = folder / "monitor.jsonl"
                    monitor.touch()
                    database = sqlite_database()
                    _log(f"storm N={n:,} run {run}/{args.runs}")
                    with (
                        database as url,
                        kimgraph_server(
                            contextlib.nullcontext(url), folder, monitor
                        ) as server,
                    ):
                        result, frame = asyncio.run(
                            measure_storm(server, n, url, monitor)
                        )
                    with bare_server(folder) as server:
                        result.bare = asyncio.run(measure_bare(server, n, 1, frame))
                    results.append(result)
    except FAILURES as exc:
        return failed(exc)
    command = shlex.join(["python", "-m", "bench.fanout", *sys.argv[1:]])
    print(f"Resume storm: `{command}` (sqlite), one row per run.")
    print()
    print(
        "| N | connected (s) | bare connected (s) | all caught up (s) | per s "
        "| KiB per live connection "
        "| worst loop lag (ms) | worst GC pause (ms) "
        "| most CPU in one GC pass, gen 0/1/2 (ms) "
        "| a full GC pass with N live: CPU (ms), objects "
        "| first live event, last (ms) "
        "| bare last (ms) | / bare | one replaying 10,000 (s) "
        "| its server CPU (s) | its wait for a CPU (s) |"
    )
    print("|" + " ---: |" * 16)
    for r in results:
        assert r.live is not None
        assert r.bare is not None
        print(
            f"| {r.n:,} | {r.connect_s:.1f} | {r.bare.connect_s:.1f} "
            f"| {r.caught_up_s:.2f} "
            f"| {r.n / r.caught_up_s:,.0f} | {r.kib_per_connection:.1f} "
            f"| {r.worst_lag_s * 1e3:.0f} | {r.worst_gc_s * 1e3:.0f} "
            f"| {_per_generation(r.worst_gc_cpu_s)} "
            f"| {r.full_gc_cpu_s * 1e3:.0f}, {r.full_gc_tracked:,} "
            f"| {r.live.last * 1e3:.1f} | {r.bare.median(lambda x: x.last) * 1e3:.1f} "
            f"| {r.ratio:.2f}x | {r.single_s:.2f} | {r.single_cpu_s:.2f} "
            f"| {r.single_wait_s:.2f} |"
        )
    print()
    print("\n".join(machine_facts(True, os.getloadavg())))
    return 0


# --------------------------------------------------------------------------- #
# Report                                                                      #
# --------------------------------------------------------------------------- #


def markdown_table(pairs: Sequence[tuple[PhaseResult, PhaseResult]]) -> str:
    """Medians over the runs; ratios against the bare broadcast at the same N."""
    lines = [
        "| N | system | last (ms) | p50 (ms) | p99 (ms) | last / bare last "
        "| worst run's last (ms) | server CPU (ms) | server CPU / bare "
        "| server waited for a CPU (ms) | request (ms) | client CPU (ms) "
        "| KB per idle connection | idle server CPU |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: | ---: |",
    ]
    for kimgraph, bare in pairs:
        bare_last = bare.median(lambda r: r.last)
        bare_cpu = bare.median(lambda r: r.server_cpu_s)
        for result in (kimgraph, bare):
            last = result.median(lambda r: r.last)
            cpu = result.median(lambda r: r.server_cpu_s)
            worst = max(r.last for r in result.rounds)
            lines.append(
                f"| {result.n:,} | {result.system} | {last * 1e3:.1f} "
                f"| {result.median(lambda r: r.percentile(50)) * 1e3:.1f} "
                f"| {result.median(lambda r: r.percentile(99)) * 1e3:.1f} "
                f"| {last / bare_last:.2f}x | {worst * 1e3:.1f} "
                f"| {cpu * 1e3:.0f} | {cpu / bare_cpu:.2f}x "
                f"| {result.median(lambda r: r.server_wait_s) * 1e3:.0f} "
                f"| {result.median(lambda r: r.request_s) * 1e3:.1f} "
                f"| {result.median(lambda r: r.client_cpu_s) * 1e3:.0f} "
                f"| {result.kib_per_connection:.1f} | {result.idle_cpu:.1%} |"
            )
    return "\n".join(lines)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_state() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "kimgraph", "resolvers", "schema"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    changed = [line[3:] for line in status if line.strip()]
    if not changed:
        return f"{head}, clean"
    return f"{head} plus uncommitted changes to {', '.join(changed)}"


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine_facts(pinned_ok: bool, load: tuple[float, float, float]) -> list[str]:
    loop = "uvloop" if _version("uvloop") != "not installed" else "asyncio"
    facts = [
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.release()} {platform.machine()}",
        f"nproc: {os.cpu_count()} ({_cpu_model()}); "
        + (
            f"server pinned to CPU {SERVER_CPU}, client to CPU {CLIENT_CPU}"
            if pinned_ok
            else "NOT pinned (fewer than 2 CPUs)"
        ),
        f"uvicorn {_version('uvicorn')} (ws auto = websockets-sansio, loop {loop}, "
        "no per-message deflate), "
        f"starlette {_version('starlette')}, "
        f"strawberry-graphql {_version('strawberry-graphql')}, "
        f"graphql-core {_version('graphql-core')}, websockets {_version('websockets')}",
        f"open files limit: {resource.getrlimit(resource.RLIMIT_NOFILE)[0]}; "
        f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        f"server code: {_git_state()}",
    ]
    return [f"- {fact}" for fact in facts]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument(
        "--n", type=int, nargs="+", default=[1000, 10000], help="subscriber counts"
    )
    parser.add_argument("--runs", type=int, default=3, help="measured events per N")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help=f"with --backend postgres (default: {DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="after the measured runs, py-spy record the KIMgraph server over "
        "--profile-rounds more events; raw stacks and a summary go to DIR",
    )
    parser.add_argument("--profile-rounds", type=int, default=5)
    parser.add_argument(
        "--storm",
        action="store_true",
        help="the resume storm instead: N board subscriptions with `after` 20 "
        "events back, --runs times; then one subscriber replaying 10,000",
    )
    parser.add_argument(
        "--partners",
        action="store_true",
        help="aspirationEvents to N partner feeds of one region instead, shared "
        "and unshared (bench.partner_fanout, which has more options)",
    )
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--monitored-server", type=int, help=argparse.SUPPRESS)
    return parser


def _prepare_process() -> bool:
    """Raise the open-files limit and pin this process; True if pinned."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {CLIENT_CPU})
        return True
    return False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table and the machine facts."""
    args = _parser().parse_args(argv)
    if args.bare_server is not None:
        return serve_bare(args.bare_server)
    if args.monitored_server is not None:
        return serve_monitored(args.monitored_server)
    if args.partners:
        from bench import partner_fanout

        return partner_fanout.main(["--n", *map(str, args.n), "--runs", str(args.runs)])
    if args.runs < 1 or any(n < 1 for n in args.n):
        print("--runs and --n must be at least 1", file=sys.stderr)
        return 2
    needed = max(args.n) + 100
    pinned_ok = _prepare_process()
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if limit < needed:
        print(f"open files limit {limit} < {needed}", file=sys.stderr)
        return 2
    if args.storm:
        return run_storm(args)
    load = os.getloadavg()
    profile = None
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
        profile = Profile(args.profile.resolve(), args.profile_rounds)
    pairs: list[tuple[PhaseResult, PhaseResult]] = []
    frame = b""
    try:
        for n in args.n:
            with tempfile.TemporaryDirectory(prefix="kimgraph-fanout-") as tmp:
                folder = Path(tmp)
                database: AbstractContextManager[str] = (
                    sqlite_database()
                    if args.backend == "sqlite"
                    else postgres_database(args.postgres_url)
                )
                _log(f"N={n:,}: {KIMGRAPH} ({args.backend})")
                with kimgraph_server(database, folder) as server:
                    kimgraph, frame = asyncio.run(
                        measure_kimgraph(server, n, args.runs, profile)
                    )
                _log(f"N={n:,}: {BARE} ({len(frame)}-byte frame)")
                with bare_server(folder) as server:
                    bare = asyncio.run(measure_bare(server, n, args.runs, frame))
                pairs.append((kimgraph, bare))
    except FAILURES as exc:
        return failed(exc)
    command = shlex.join(["python", "-m", "bench.fanout", *sys.argv[1:]])
    print(
        f"Fan-out of one {len(frame)}-byte event frame, {args.runs} run(s) per N, "
        f"medians; `{command}` ({args.backend})."
    )
    print(
        "last/p50/p99: from just before the publish (or /broadcast) request was "
        "written until a subscriber's frame was read; request: that request's own "
        "latency; server CPU and its wait for a CPU: the server's event loop thread "
        "from the request until the last frame was read (/proc schedstat); client "
        "CPU: this process's loop thread, likewise; KB per idle connection: server "
        "VmRSS growth from before the first connection to N idle subscribers, / N "
        "(KiB); idle server CPU: the server's loop with N idle subscribers, over "
        f"{IDLE_MEASURE_S:.0f} s (keepalive pings)."
    )
    print()
    print(markdown_table(pairs))
    print()
    for kimgraph, bare in pairs:
        print(
            f"- N={kimgraph.n:,}: opening the connections took "
            f"{kimgraph.connect_s:.1f} s"
            f" (KIMgraph: handshake, connection_init, ack, subscribe; warm-up events"
            f" until all were live: {kimgraph.warmups}) and {bare.connect_s:.1f} s"
            f" (bare; warm-up broadcasts: {bare.warmups})"
        )
    print("\n".join(machine_facts(pinned_ok, load)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
