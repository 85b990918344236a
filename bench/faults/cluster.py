"""The deployment under test: PostgreSQL, a Redis of its own, N servers, HAProxy.

Everything runs on this machine, each on a free port. The Redis is started by the
harness (`redis-server --port <free>`) so that it can be stopped and started again
without touching a Redis anyone else uses. Clients only ever talk to HAProxy.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped, unused-ignore]
import httpx

POSTGRES_URL = os.environ.get(
    "KIMGRAPH_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/"
)
HOST = "127.0.0.1"
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "kata-sandi-faults-123"
ADMIN_REGION = "61.04"
STARTUP_DEADLINE_S = 120.0
STOP_DEADLINE_S = 30.0
CONNECT_ATTEMPTS = 4
# HAProxy marks a server down after `fall` failed checks `inter` apart.
CHECK_INTER_MS = 1000
OBSERVE = "observe layer4 error-limit 1 on-error mark-down"

HAPROXY_CONFIG = """\
global
  maxconn 9000
  log stdout format raw local0
  # Small kernel buffers towards clients and servers, so that a client that
  # stops reading pushes back to the server within a few frames (the slow
  # consumer fault), as it would over a real network.
  tune.sndbuf.client 32768
  tune.rcvbuf.server 32768

defaults
  mode http
  log global
  option httplog
  option dontlog-normal  # only errors and retried requests are logged
  option http-buffer-request
  timeout connect 5s
  timeout http-request 10s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h
  # A connection refused (a dead or stopping process) is tried on another
  # server; nothing that reached a server is ever sent twice.
  retries 3
  option redispatch 1
  retry-on conn-failure

frontend kimgraph
  bind {host}:{port}
  maxconn 9000
  default_backend kimgraph

backend kimgraph
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  timeout check 3s
  # A refused connection marks a server down at once, not after two checks.
  default-server inter {inter}ms fall 2 rise 1 {observe}
{servers}
"""


class HarnessError(RuntimeError):
    """The deployment could not be brought up or controlled."""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise HarnessError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise HarnessError(f"{what} is not listening on {port}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def connect(url: str) -> Any:
    """An asyncpg connection, given time: under load a connect can take > 10 s."""
    for attempt in range(CONNECT_ATTEMPTS):
        try:
            return await asyncpg.connect(url, timeout=30)
        except (TimeoutError, OSError):
            if attempt == CONNECT_ATTEMPTS - 1:
                raise
            await asyncio.sleep(1)
    raise AssertionError("unreachable")


async def _admin(url: str, statement: str) -> None:
    conn = await connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (the first server migrates it), dropped."""
    name = f"kimgraph_faults_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(POSTGRES_URL + "postgres", f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_URL + name
    finally:
        asyncio.run(
            _admin(
                POSTGRES_URL + "postgres",
                f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            )
        )


class Redis:
    """A redis-server of the harness's own, on a free port, to stop and start."""

    def __init__(self, folder: Path) -> None:
        if shutil.which("redis-server") is None:
            raise HarnessError("redis-server is not installed (apt-get install redis)")
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", HOST),
                *("--save", "", "--appendonly", "no", "--dir", str(self.folder)),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        _wait_for_port(self.port, self.process, "redis-server")

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self.process = None


@dataclass
class ServerProcess:
    """One `kimgraph serve` process; its port stays the same across restarts."""

    index: int
    port: int
    folder: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def name(self) -> str:
        return f"kimgraph{self.index + 1}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        self.starts += 1
        log = (self.folder / f"{self.name}.log").open("ab")
        log.write(f"\n=== start {self.starts} at {time.time():.3f}\n".encode())
        log.flush()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kimgraph.cli", "serve", "--port", str(self.port)],
            cwd=self.folder,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise HarnessError(
                    f"{self.name} exited early:\n{self.output()[-3000:]}"
                )
            try:
                if httpx.get(
                    f"{self.url}/readyz", timeout=2, trust_env=False
                ).is_success:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise HarnessError(f"{self.name} not ready after {STARTUP_DEADLINE_S} s")

    def kill(self) -> None:
        """kill -9, and reap it."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def terminate(self, deadline_s: float) -> float | None:
        """SIGTERM; seconds until it exited, or None if it had to be killed."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=deadline_s)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        return time.monotonic() - started

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)

    def output(self) -> str:
        return (self.folder / f"{self.name}.log").read_text(errors="replace")

    def database_ports(self, database_port: int = 5432) -> set[int]:
        """Local ports of this process's TCP connections to the database.

        kimgraph sets no application_name, so its backends are found by the
        client port pg_stat_activity shows: the process's socket inodes
        (/proc/PID/fd) matched against the kernel's TCP table.
        """
        inodes = set()
        fds = Path(f"/proc/{self.pid}/fd")
        for fd in fds.iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        ports = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                parts = line.split()
                local, remote, inode = parts[1], parts[2], parts[9]
                if (
                    inode in inodes
                    and int(remote.rsplit(":", 1)[1], 16) == database_port
                ):
                    ports.add(int(local.rsplit(":", 1)[1], 16))
        return ports


@dataclass
class Cluster:
    """The running deployment; `haproxy_url` is the one address clients use."""

    folder: Path
    database_url: str
    redis: Redis
    servers: list[ServerProcess]
    haproxy_port: int
    haproxy: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def http_url(self) -> str:
        return f"http://{HOST}:{self.haproxy_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.haproxy_port}/graphql"

    def cli(self, *args: str) -> str:
        """Run `kimgraph` like an operator; its standard output."""
        result = subprocess.run(
            [sys.executable, "-m", "kimgraph.cli", *args],
            env=self.env,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        return result.stdout

    def wait_balanced(self, server: ServerProcess, up: bool) -> None:
        """Until HAProxy sees the server up (or down), by its stats socket."""
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        while time.monotonic() < deadline:
            if (
                self.backend_state()
                .get(server.name, "DOWN")
                .startswith("UP" if up else "DOWN")
            ):
                return
            time.sleep(0.05)
        raise HarnessError(f"HAProxy never saw {server.name} {'up' if up else 'down'}")

    def set_state(self, server: ServerProcess, state: str) -> None:
        """HAProxy's `set server` (ready, drain, maint) through its admin socket."""
        self._stats(f"set server kimgraph/{server.name} state {state}\n")

    def _stats(self, command: str) -> str:
        with socket.socket(socket.AF_UNIX) as stats:
            stats.settimeout(5)
            stats.connect(str(self.folder / "haproxy.sock"))
            stats.sendall(command.encode())
            raw = b""
            while chunk := stats.recv(65536):
                raw += chunk
        return raw.decode()

    def backend_state(self) -> dict[str, str]:
        """HAProxy's view: server name -> status (UP, DOWN, MAINT, ...)."""
        states = {}
        for line in self._stats("show stat\n").splitlines():
            cells = line.split(",")
            if len(cells) > 17 and cells[0] == "kimgraph":
                states[cells[1]] = cells[17]
        return states

    async def terminate_backends(self, server: ServerProcess) -> int:
        """pg_terminate_backend of every connection of one process; how many."""
        ports = sorted(server.database_ports())
        if not ports:
            return 0
        name = self.database_url.rsplit("/", 1)[1]
        conn = await connect(POSTGRES_URL + "postgres")
        try:
            rows = await conn.fetch(
                "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity "
                "WHERE datname = $1 AND client_port = ANY($2::int[])",
                name,
                ports,
            )
        finally:
            await conn.close()
        return sum(1 for row in rows if row["done"])


@contextmanager
def running_cluster(
    folder: Path,
    processes: int = 3,
    code_path: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Cluster]:
    """Database, Redis, `processes` servers and HAProxy, all stopped afterwards.

    code_path: a directory holding another `kimgraph` package to serve (a
    deliberately broken copy, to show the check has teeth); None serves this one.
    """
    if shutil.which("haproxy") is None:
        raise HarnessError("HAProxy is not installed (apt-get install haproxy)")
    with ExitStack() as stack:
        database_url = stack.enter_context(postgres_database())
        redis = Redis(folder)
        redis.start()
        stack.callback(redis.stop)
        env = {
            **os.environ,
            "KIMGRAPH_DATABASE_URL": database_url,
            "KIMGRAPH_REDIS_URL": redis.url,
            "KIMGRAPH_SECRET_KEY": secrets.token_hex(32),
            "KIMGRAPH_TIMER_INTERVAL_SECONDS": "0.5",
            # Every client of the harness comes from 127.0.0.1 (through HAProxy).
            "KIMGRAPH_WS_MAX_PER_ADDRESS": "1000000",
            # A stalled board is found after 64 frames instead of 256.
            "KIMGRAPH_SUBSCRIBER_QUEUE_SIZE": "64",
            "KIMGRAPH_LOG_LEVEL": "warning",
            **(extra_env or {}),
        }
        if code_path is not None:
            env["PYTHONPATH"] = str(code_path)
        servers = [ServerProcess(i, free_port(), folder, env) for i in range(processes)]
        # The first one migrates the database and loads Ketapang's regions alone.
        for server in servers:
            stack.callback(server.stop)
        servers[0].start()
        threads = [threading.Thread(target=s.start) for s in servers[1:]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for server in servers:
            server.wait_ready()
        port = free_port()
        config = folder / "haproxy.cfg"
        lines = [f"  server {s.name} {HOST}:{s.port} check" for s in servers]
        config.write_text(
            HAPROXY_CONFIG.format(
                host=HOST,
                port=port,
                inter=CHECK_INTER_MS,
                observe=OBSERVE,
                servers="\n".join(lines),
            ).replace(
                "global\n",
                f"global\n  stats socket {folder / 'haproxy.sock'} level admin\n",
                1,
            )
        )
        log = (folder / "haproxy.log").open("ab")
        haproxy = subprocess.Popen(
            ["haproxy", "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        stack.callback(_stop, haproxy)
        _wait_for_port(port, haproxy, "haproxy")
        cluster = Cluster(folder, database_url, redis, servers, port, haproxy, env)
        for server in servers:
            cluster.wait_balanced(server, up=True)
        cluster.cli(
            *("accounts", "create", "--username", ADMIN_USERNAME, "--role", "ADMIN"),
            *("--region", ADMIN_REGION, "--password", ADMIN_PASSWORD),
        )
        yield cluster
