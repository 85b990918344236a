"""Slow clients are cut by the load balancer, configured as README says (HAProxy).

uvicorn 0.54 has no timeout for reading a request's head or body: a client that
sends its headers or body a byte at a time holds a connection for as long as it
likes. KIMgraph relies on the load balancer in front of it (docs/http.md); this
runs a real HAProxy with the README's settings (timeouts shortened) before a
real server.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Server, free_port, running_server
from tests.services import database, service_missing

HAPROXY = "haproxy"
DEADLINE_S = 30.0
# README, "Behind a load balancer", with http-request at 1 s instead of 10 s.
CONFIG = """
defaults
  mode http
  option http-buffer-request
  timeout connect 5s
  timeout http-request 1s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h

frontend kimgraph
  bind 127.0.0.1:{port}
  default_backend kimgraph

backend kimgraph
  server kimgraph1 127.0.0.1:{server_port}
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with (
        database("sqlite", tmp_path, migrated=True) as url,
        running_server(tmp_path, {"KIMGRAPH_DATABASE_URL": url}) as running,
    ):
        yield running


@pytest.fixture
def balancer(server: Server, tmp_path: Path) -> Iterator[int]:
    """HAProxy in front of the server; its port."""
    if shutil.which(HAPROXY) is None:
        service_missing("HAProxy is not installed (apt-get install haproxy)")
    port = free_port()
    server_port = int(server.url.rsplit(":", 1)[1])
    config = tmp_path / "haproxy.cfg"
    config.write_text(CONFIG.format(port=port, server_port=server_port))
    process = subprocess.Popen(
        [HAPROXY, "-db", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    """Until HAProxy listens (a condition, with a generous deadline)."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        assert process.poll() is None, "haproxy exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("haproxy is not listening")


def _held(port: int, sent: bytes) -> bytes:
    """What a client that sends `sent` and then nothing more is answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S) as client:
        client.sendall(sent)
        answer = b""
        while chunk := client.recv(4096):  # until the balancer closes
            answer += chunk
        return answer


def test_a_query_passes_through_the_balancer(balancer: int) -> None:
    response = httpx.post(
        f"http://127.0.0.1:{balancer}/graphql",
        json={"query": '{ region(code: "61.04") { name } }'},
        trust_env=False,
    )
    assert response.json() == {"data": {"region": {"name": "Kabupaten Ketapang"}}}


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param(b"POST /graphql HTTP/1.1\r\nHost: kimgraph\r\n", id="slow-header"),
        pytest.param(
            b"POST /graphql HTTP/1.1\r\nHost: kimgraph\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            b'{"query":',
            id="slow-body",
        ),
    ],
)
def test_a_client_that_stalls_is_answered_408_and_never_reaches_the_server(
    balancer: int, server: Server, sent: bytes
) -> None:
    # when
    answer = _held(balancer, sent)
    # then
    assert answer.startswith(b"HTTP/1.1 408 Request Time-out\r\n")
    assert "POST /graphql" not in server.output()
