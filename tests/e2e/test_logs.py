"""No personal data or secret in the server's log, at debug or info (issue 17).

A real `kimgraph serve` gets every kind of input that once reached its log,
each carrying a marker of its own: a reporter's name and contact (submitted,
in a refused GET mutation's URL, with a lone surrogate, with a NUL), passwords
in tokenCreate over HTTP and WebSocket, bearer tokens (valid and not) in
headers and in connection_init, subscription variables, and the other refused
inputs of issue 17 (a malformed code, a cursor with a Unicode digit, a datetime
without an offset, bodies that are no JSON object or no UTF-8, a burst of wrong
passwords until 429). The log, read after
the server stopped (so that every buffer is flushed), holds none of them,
and does hold the lines that once carried them.
"""

from __future__ import annotations

import json
import secrets
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.live import ADMIN_PASSWORD, Subscriber, live_server
from tests.e2e.server import Server

MUTATION_SUBMIT = """
mutation ($input: AspirationSubmitInput!) {
  aspirationSubmit(input: $input) { ticket userErrors { code message } }
}
"""
MUTATION_TOKEN = """
mutation ($input: TokenCreateInput!) {
  tokenCreate(input: $input) { token userErrors { code } }
}
"""
SUBSCRIPTION_TICKET = """
subscription ($t: String) { aspirationEvents(ticket: $t) { cursor } }
"""
QUERY_REGIONS = "query ($s: String) { regions(search: $s) { totalCount } }"
HOME_DESA = "61.04.16.2006"
STOP_DEADLINE_S = 30


@dataclass
class Markers:
    """A unique string per input; none may reach the log."""

    values: dict[str, str]

    def __getitem__(self, name: str) -> str:
        return self.values.setdefault(name, f"Qz{name}{secrets.token_hex(6)}")


@dataclass
class Run:
    server: Server
    level: str
    log_format: str
    token: str
    markers: Markers


@pytest.fixture(
    params=[
        ("sqlite", "debug", "text"),
        pytest.param(("postgres", "debug", "text"), marks=pytest.mark.postgres),
        ("sqlite", "info", "text"),
        ("sqlite", "debug", "json"),
    ],
    ids=["sqlite-debug", "postgres-debug", "sqlite-info", "sqlite-debug-json"],
)
def run(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Run]:
    backend, level, log_format = request.param
    # Unbuffered: uvicorn ends by re-raising SIGTERM, which flushes no buffer.
    env = {
        "KIMGRAPH_LOG_LEVEL": level,
        "KIMGRAPH_LOG_FORMAT": log_format,
        "PYTHONUNBUFFERED": "1",
    }
    with live_server(backend, tmp_path, env) as (server, _, token):
        yield Run(server, level, log_format, token, Markers({}))


def submission(name: str, contact: str) -> dict[str, Any]:
    return {
        "input": {
            "region": HOME_DESA,
            "title": "Jalan longsor",
            "description": "Badan jalan longsor sepanjang 20 meter.",
            "category": "INFRASTRUCTURE",
            "reporterName": name,
            "reporterContact": contact,
        }
    }


async def post(
    http: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any],
    authorization: str | None = None,
) -> dict[str, Any]:
    """POST as a browser does: JSON escapes a lone surrogate as \\ud800."""
    headers = {"content-type": "application/json"}
    if authorization:
        headers["authorization"] = authorization
    body = json.dumps({"query": query, "variables": variables})
    response = await http.post("/graphql", content=body, headers=headers)
    result: dict[str, Any] = response.json()
    return result


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


async def send_everything(run: Run, http: httpx.AsyncClient) -> None:
    """Every input that once reached the log, each with its own marker."""
    m, bearer = run.markers, f"Bearer {run.token}"
    submitted = await post(
        http, MUTATION_SUBMIT, submission(m["name"], m["contact"]), bearer
    )
    assert submitted["data"]["aspirationSubmit"]["userErrors"] == [], submitted
    for text in ("\ud800", "\x00"):
        refused = await post(
            http, MUTATION_SUBMIT, submission(m["name"] + text, m["contact"] + text)
        )
        assert codes(refused) == ["INVALID_ARGUMENT"], refused
        refused = await post(http, QUERY_REGIONS, {"s": m["search"] + text})
        assert codes(refused) == ["INVALID_ARGUMENT"], refused
    wrong = await post(
        http, MUTATION_TOKEN, {"input": {"username": "admin", "password": m["pw"]}}
    )
    assert wrong["data"]["tokenCreate"]["userErrors"] == [
        {"code": "INVALID_CREDENTIALS"}
    ]
    unknown = await post(http, "{ me { role } }", {}, f"Bearer {m['token']}")
    assert codes(unknown) == ["UNAUTHENTICATED"]
    by_get = await http.get(
        "/graphql",
        params={
            "query": MUTATION_SUBMIT,
            "variables": json.dumps(submission(m["get_name"], m["get_contact"])),
        },
    )
    assert by_get.is_client_error, by_get.text


MUTATION_PUBLISH = """
mutation ($input: AnnouncementPublishInput!) {
  announcementPublish(input: $input) { announcement { id } userErrors { code } }
}
"""
QUERY_REGION = "query ($c: String!) { region(code: $c) { name } }"
QUERY_PAGE = "query ($a: String) { regions(first: 1, after: $a) { totalCount } }"


async def send_other_items_inputs(run: Run, http: httpx.AsyncClient) -> None:
    """Issue 17's other refused inputs (items 2, 12, 13), each with a marker."""
    m, bearer = run.markers, f"Bearer {run.token}"
    # item 12: a malformed region code, a cursor with a Unicode digit, a
    # datetime without an offset
    refused = await post(http, QUERY_REGION, {"c": m["code"]})
    assert codes(refused) == ["INVALID_REGION_CODE"], refused
    refused = await post(http, QUERY_PAGE, {"a": m["cursor"] + "\u00b2"})
    assert codes(refused) == ["INVALID_CURSOR"], refused
    draft = {
        "title": m["title"],
        "body": m["body"],
        "category": "GENERAL",
        "targets": [HOME_DESA],
        "validFrom": "2030-01-01T08:00:00",
    }
    refused = await post(http, MUTATION_PUBLISH, {"input": draft}, bearer)
    assert refused["data"]["announcementPublish"] == {
        "announcement": None,
        "userErrors": [{"code": "INVALID"}],
    }, refused
    # item 13: a JSON body that is no object, and one that is not UTF-8
    scalar = await http.post(
        "/graphql",
        content=json.dumps(m["scalar_body"]),
        headers={"content-type": "application/json"},
    )
    assert scalar.status_code == 400, scalar.text
    not_utf8 = await http.post(
        "/graphql",
        content=b'{"query": "' + m["bytes_body"].encode() + b'\xff"}',
        headers={"content-type": "application/json"},
    )
    assert not_utf8.status_code == 400, not_utf8.text
    # item 2: wrong passwords until the limit answers 429
    statuses = []
    for _ in range(11):
        burst = await http.post(
            "/graphql",
            json={
                "query": MUTATION_TOKEN,
                "variables": {"input": {"username": "warga", "password": m["burst"]}},
            },
        )
        statuses.append(burst.status_code)
    assert statuses == [200] * 10 + [429], statuses


async def send_over_websocket(run: Run) -> None:
    """connection_init with the token; a password, a ticket, a surrogate inside."""
    m, bearer = run.markers, f"Bearer {run.token}"
    signing_in = await Subscriber.follow(
        run.server,
        MUTATION_TOKEN,
        {"input": {"username": "admin", "password": m["ws_pw"]}},
        bearer,
    )
    message = await signing_in.message()
    assert message["payload"]["data"]["tokenCreate"]["token"] is None, message
    await signing_in.close()
    following = await Subscriber.follow(
        run.server, SUBSCRIPTION_TICKET, {"t": m["ticket"]}, bearer
    )
    await following.close()
    cut = await Subscriber.follow(
        run.server, SUBSCRIPTION_TICKET, {"t": m["ws_ticket"] + "\ud800"}, bearer
    )
    message = await cut.message()
    assert message["type"] == "error", message
    assert [e["extensions"]["code"] for e in message["payload"]] == ["INVALID_ARGUMENT"]
    await cut.close()


async def test_the_log_holds_no_personal_data_or_secret(run: Run) -> None:
    # given: a server at debug or info level
    server = run.server
    # when: every input that once reached the log is sent, then the server stops
    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as http:
        await send_everything(run, http)
        await send_other_items_inputs(run, http)
        await send_over_websocket(run)
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=STOP_DEADLINE_S)
    log = server.output()
    # then: none of what was sent
    secrets_sent = [ADMIN_PASSWORD, run.token, run.token[-20:], run.token[:20]]
    leaked = [v for v in [*run.markers.values.values(), *secrets_sent] if v in log]
    assert leaked == []
    assert "ud800" not in log
    assert "Logging error" not in log
    # and: the lines that once carried them are there, so the test can fail
    if run.log_format == "json":  # every line is an object; its message, as text
        entries = [json.loads(line) for line in log.splitlines() if line.strip()]
        log = "\n".join(entry["message"] for entry in entries)
    assert '"POST /graphql HTTP/1.1" 200' in log
    assert '"GET /graphql HTTP/1.1" 4' in log
    assert '"WebSocket /graphql" [accepted]' in log
    if run.level == "debug":
        assert 'INSERT INTO "aspiration"' in log
        assert "< TEXT [" in log  # a frame, by kind and size
