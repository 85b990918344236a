"""The access log and request metrics of a real `kimgraph serve` (issue 14).

Each request carries its own X-Request-ID, so the test finds its exact line:
a named query, a mutation answered with a userError, requests refused with 413
and 400, a WebSocket subscription; in text and in JSON. The request metrics
count exactly the requests sent, and the log holds none of their secrets.
"""

from __future__ import annotations

import json
import re
import secrets
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.e2e.live import ADMIN_PASSWORD, DEADLINE_S, live_server
from tests.e2e.server import Server
from tests.e2e.test_metrics import Samples, parse

QUERY = "query Regions { regions(first: 1) { totalCount } }"
SIGN_IN = """
mutation SignIn($input: TokenCreateInput!) {
  tokenCreate(input: $input) { token userErrors { code } }
}
"""
SUBSCRIPTION = """
subscription BoardFeed($region: String!) {
  announcementEvents(region: $region) { cursor }
}
"""
DESA = "61.04.16.2006"
MAX_BODY = 4096
STOP_DEADLINE_S = 30


@dataclass
class Run:
    server: Server
    log_format: str
    token: str


@pytest.fixture(params=["text", "json"])
def run(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Run]:
    env = {
        "KIMGRAPH_LOG_FORMAT": request.param,
        "KIMGRAPH_MAX_BODY_BYTES": str(MAX_BODY),
        "PYTHONUNBUFFERED": "1",  # the lines are read after SIGTERM
    }
    with live_server("sqlite", tmp_path, env) as (server, _, token):
        yield Run(server, request.param, token)


async def samples(http: httpx.AsyncClient) -> Samples:
    return parse((await http.get("/metrics")).text)


def operations(now: Samples, before: Samples) -> dict[tuple[str, str], float]:
    """kimgraph_graphql_operations_total by (type, outcome), as sent since before."""
    counted = {}
    for (name, labels), value in now.items():
        if name == "kimgraph_graphql_operations_total":
            key = (dict(labels)["type"], dict(labels)["outcome"])
            counted[key] = value - before.get((name, labels), 0)
    return {key: value for key, value in counted.items() if value}


async def subscribe_over_websocket(server: Server, rid: str) -> list[str]:
    """graphql-transport-ws: init, subscribe by name, one ack; closed with 1000."""
    async with connect(
        server.ws_url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        additional_headers={"X-Request-ID": rid},
        proxy=None,
        open_timeout=DEADLINE_S,
    ) as ws:
        assert ws.response is not None
        echoed = ws.response.headers["x-request-id"]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        subscribe = {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": SUBSCRIPTION, "variables": {"region": DESA}},
        }
        await ws.send(json.dumps(subscribe))
        await ws.send(json.dumps({"id": "1", "type": "complete"}))
    return [echoed]


async def test_one_line_per_request_with_its_id_operation_role_and_status(
    run: Run,
) -> None:
    # given: a server, and markers that must not reach the log
    password = f"Qzpw{secrets.token_hex(6)}"
    admin = {"authorization": f"Bearer {run.token}"}
    async with httpx.AsyncClient(base_url=run.server.url, trust_env=False) as http:
        before = await samples(http)
        # when: a named query as the admin, with a sane request id
        query = await http.post(
            "/graphql", json={"query": QUERY}, headers={**admin, "X-Request-ID": "q-1"}
        )
        # and: a sign-in with a wrong password (a userError)
        variables = {"input": {"username": "admin", "password": password}}
        mutation = await http.post(
            "/graphql",
            json={"query": SIGN_IN, "variables": variables},
            headers={"X-Request-ID": "m-1"},
        )
        # and: a body over the limit (413), and one that is no JSON object (400)
        too_large = await http.post(
            "/graphql",
            content=json.dumps({"query": QUERY, "pad": "x" * MAX_BODY}),
            headers={"content-type": "application/json", "X-Request-ID": "r-413"},
        )
        malformed = await http.post(
            "/graphql",
            content="42",
            headers={"content-type": "application/json", "X-Request-ID": "r-400"},
        )
        # and: request ids that are no sane token, or none
        insane = await http.get("/healthz", headers={"X-Request-ID": "a" * 65})
        odd = await http.get("/healthz", headers={"X-Request-ID": "id;drop table"})
        without = await http.get("/healthz")
        # and: a subscription over WebSocket
        echoed = await subscribe_over_websocket(run.server, "ws-1")
        after = await samples(http)
    run.server.process.send_signal(signal.SIGTERM)
    run.server.process.wait(timeout=STOP_DEADLINE_S)
    log = run.server.output()
    # then: the answers, and the ids echoed (a sane one as sent)
    assert query.json()["data"]["regions"]["totalCount"] > 0
    assert mutation.json()["data"]["tokenCreate"]["userErrors"] == [
        {"code": "INVALID_CREDENTIALS"}
    ]
    assert (too_large.status_code, malformed.status_code) == (413, 400)
    assert query.headers["x-request-id"] == "q-1"
    assert too_large.headers["x-request-id"] == "r-413"
    assert echoed == ["ws-1"]
    made = [r.headers["x-request-id"] for r in (insane, odd, without)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", rid) for rid in made), made
    assert len(set(made)) == 3
    # and: exactly one line per request, naming operation, outcome and role
    lines = access_lines(log, run.log_format)
    assert lines["q-1"] == [
        '127.0.0.1 "POST /graphql HTTP/1.1" 200 N ms query:Regions ok role=ADMIN'
    ]
    assert lines["m-1"] == [
        '127.0.0.1 "POST /graphql HTTP/1.1" 200 N ms '
        "mutation:SignIn user_error role=anonymous"
    ]
    assert lines["r-413"] == [
        '127.0.0.1 "POST /graphql HTTP/1.1" 413 N ms unknown:- refused role=anonymous'
    ]
    assert lines["r-400"] == [
        '127.0.0.1 "POST /graphql HTTP/1.1" 400 N ms unknown:- refused role=anonymous'
    ]
    for rid in made:
        assert lines[rid] == ['127.0.0.1 "GET /healthz HTTP/1.1" 200 N ms']
    assert lines["ws-1"] == [
        '"WebSocket /graphql" subscription BoardFeed started',
        '"WebSocket /graphql" closed 1000 after N s: 3 messages in, 1 out',
    ]
    if run.log_format == "json":
        assert_json_fields(log)
    # and: uvicorn's own access line is gone (one line per request)
    assert "uvicorn.access" not in log
    assert '- "POST /graphql' not in log
    # and: no secret
    leaked = [s for s in (password, run.token, ADMIN_PASSWORD) if s in log]
    assert leaked == []
    # and: the metrics counted exactly these requests
    assert operations(after, before) == {
        ("query", "ok"): 1,
        ("mutation", "user_error"): 1,
        ("unknown", "refused"): 2,
    }
    count = "kimgraph_graphql_request_seconds_count"
    assert (
        after[count, (("type", "query"),)]
        - before.get((count, (("type", "query"),)), 0)
        == 1
    )


def access_lines(log: str, log_format: str) -> dict[str, list[str]]:
    """kimgraph.access messages by request id, durations as N."""
    found: dict[str, list[str]] = {}
    for line in log.splitlines():
        if log_format == "json":
            if not line.startswith("{"):
                continue
            entry = json.loads(line)
            if entry["logger"] != "kimgraph.access":
                continue
            rid, message = entry["request_id"], entry["message"]
        else:
            match = re.match(r"\S+ \S+ INFO kimgraph\.access \[\d+ (\S+)\] (.*)", line)
            if match is None:
                continue
            rid, message = match.groups()
        message = re.sub(r"\d+\.\d (ms|s)\b", r"N \1", message)
        found.setdefault(rid, []).append(message)
    return found


def assert_json_fields(log: str) -> None:
    """Every line is a JSON object; an access line's fields are exact."""
    entries = [json.loads(line) for line in log.splitlines() if line.strip()]
    by_id: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        assert {"time", "level", "logger", "message", "request_id", "pid"} <= set(
            entry
        ), entry
        by_id.setdefault(entry["request_id"], []).append(entry)
    (mutation,) = by_id["m-1"]
    assert mutation["duration_ms"] >= 0
    del mutation["time"], mutation["pid"], mutation["duration_ms"]
    del mutation["message"]
    assert mutation == {
        "level": "INFO",
        "logger": "kimgraph.access",
        "request_id": "m-1",
        "kind": "http",
        "client": "127.0.0.1",
        "method": "POST",
        "path": "/graphql",
        "status": 200,
        "operations": [{"type": "mutation", "name": "SignIn", "outcome": "user_error"}],
        "role": "anonymous",
    }
    closed = by_id["ws-1"][-1]
    assert (closed["close_code"], closed["messages_in"], closed["messages_out"]) == (
        1000,
        3,
        1,
    )
    # uvicorn's own lines are JSON too
    assert any(e["logger"].startswith("uvicorn") for e in entries)
