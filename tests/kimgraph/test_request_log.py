"""The request id in every line of a request, the JSON lines, the ids kept or made.

A small Starlette app behind kimgraph.request_log.RequestLog, logging through
handlers set up as `kimgraph serve` sets them (kimgraph.logs): what one
request logs carries its id, an unexpected failure included, and JSON lines
keep withholding a database error's message.
"""

from __future__ import annotations

import io
import json
import logging
import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from kimgraph import logs
from kimgraph.request_log import RequestLog, request_id
from kimgraph.request_operations import safe_name

MARKER = "Qzsecret-value-42"


async def logs_an_error(request: Request) -> PlainTextResponse:
    try:
        raise sqlite3.IntegrityError(f"UNIQUE constraint failed: {MARKER}")
    except sqlite3.Error:
        logging.getLogger("kimgraph.api").exception("unexpected error at %s", "x")
    return PlainTextResponse("ok")


async def fails(request: Request) -> PlainTextResponse:
    raise RuntimeError("a bug")


APP = RequestLog(
    Starlette(routes=[Route("/error", logs_an_error), Route("/fails", fails)])
)


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """kimgraph's loggers written as serve writes them with KIMGRAPH_LOG_FORMAT=json."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.WithRequestId())
    handler.addFilter(logs.WithholdDatabaseErrors())
    handler.setFormatter(logs.JsonLines())
    logger = logging.getLogger("kimgraph")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)


def entries(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def get(path: str, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=APP, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        return await http.get(path, headers=headers)


async def test_an_error_line_carries_the_id_of_its_request(
    json_lines: io.StringIO,
) -> None:
    # when: a request whose handler logs a database error
    response = await get("/error", {"X-Request-ID": "req-7"})
    # then: the error line and the access line carry the request's id
    assert response.headers["x-request-id"] == "req-7"
    error, access = entries(json_lines)
    assert (error["logger"], error["level"], error["request_id"]) == (
        "kimgraph.api",
        "ERROR",
        "req-7",
    )
    assert error["message"] == "unexpected error at x"
    assert "sqlite3.IntegrityError: [message withheld]" in error["exception"]
    assert MARKER not in json_lines.getvalue()
    assert access["logger"] == "kimgraph.access"
    assert access["request_id"] == "req-7"
    assert (access["path"], access["status"], access["operations"]) == (
        "/error",
        200,
        [],
    )
    # and: outside any request, the id is "-"
    logging.getLogger("kimgraph.app").warning("between requests")
    assert entries(json_lines)[-1]["request_id"] == "-"


async def test_a_request_that_fails_is_logged_with_500(json_lines: io.StringIO) -> None:
    # when: the app raises before it answers
    response = await get("/fails", {"X-Request-ID": "req-8"})
    # then
    assert response.status_code == 500
    (access,) = entries(json_lines)
    assert (access["request_id"], access["status"]) == ("req-8", 500)
    assert access["message"] == '127.0.0.1 "GET /fails HTTP/1.1" 500 ' + (
        f"{access['duration_ms']:.1f} ms"
    )


@pytest.mark.parametrize(
    ("offered", "kept"),
    [
        ("7f3e-42.a_b:c", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("", False),
        ("id with spaces", False),
        ("id;drop", False),
        ('quote"', False),
        ("ünïcode", False),
    ],
)
def test_a_request_id_is_kept_only_if_it_is_a_sane_token(
    offered: str, kept: bool
) -> None:
    headers = Headers(raw=[(b"x-request-id", offered.encode())])
    made = request_id(headers)
    assert (made == offered) is kept
    if not kept:
        assert len(made) == 32
        assert int(made, 16) >= 0  # hex


@pytest.mark.parametrize(
    ("name", "logged"),
    [
        ("BoardFeed", "BoardFeed"),
        ("_private2", "_private2"),
        ("Budi Santoso 0812", None),
        ("2fast", None),
        ("x" * 101, None),
        (None, None),
        (42, None),
    ],
)
def test_only_graphql_names_are_logged_as_operation_names(
    name: object, logged: str | None
) -> None:
    assert safe_name(name) == logged
