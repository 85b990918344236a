"""HTTP subscriptions join the sockets' shared groups and their cheap resume."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.types import Message

from kimgraph.clock import FixedClock
from kimgraph.live.sharing import Sharing
from kimgraph.settings import Settings
from tests.kimgraph.live.sockets import until
from tests.kimgraph.live.test_http_streams import (
    DEADLINE,
    MULTIPART,
    PUBLISH,
    REGION,
    SSE,
    Stream,
    app_of,
)
from tests.people import Cast

SUBSCRIPTION = (
    "subscription ($r: String!, $after: String) { announcementEvents("
    "region: $r, after: $after) { cursor announcement { title } } }"
)
CURSOR = "query ($r: String!) { announcements(region: $r) { eventCursor } }"


@asynccontextmanager
async def streamed(app: Any, accept: str, after: str) -> AsyncIterator[Stream]:
    """POST the subscription with `after` and `accept`; cancelled on exit."""
    body = json.dumps(
        {"query": SUBSCRIPTION, "variables": {"r": REGION, "after": after}}
    ).encode()
    requested = False

    async def receive() -> Message:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()
        raise AssertionError

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"content-type", b"application/json"),
            (b"accept", accept.encode()),
        ],
        "client": ("192.0.2.7", 4000),
        "server": ("test", 80),
    }
    stream = Stream()
    task = asyncio.create_task(app(scope, receive, stream.send))
    try:
        yield stream
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def titles(stream: Stream, accept: str) -> list[str]:
    """The announcement titles a stream carried, in order."""
    if accept == SSE:
        parts = [
            e.split("data: ", 1)[1]
            for e in stream.body.split("\r\n\r\n")
            if e.startswith("event: next")
        ]
        results = [json.loads(p) for p in parts]
    else:
        parts = [
            p.split("\r\n\r\n", 1)[1].rsplit("\r\n--graphql", 1)[0]
            for p in stream.body.split("\r\n--graphql")
            if '"payload"' in p
        ]
        results = [json.loads(p)["payload"] for p in parts]
    return [r["data"]["announcementEvents"]["announcement"]["title"] for r in results]


@pytest.mark.usefixtures("no_errors_logged")
async def test_streams_resuming_from_one_cursor_share_a_group_and_its_catch_up(
    ketapang: str, clock: FixedClock, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: three announcements published after the cursor the clients saw
    sharings: list[Sharing] = []

    def sharing(*args: Any) -> Sharing:
        sharings.append(Sharing(*args))
        return sharings[-1]

    monkeypatch.setattr("kimgraph.view.Sharing", sharing)
    settings = Settings(database_url=ketapang)
    async with (
        app_of(settings, clock) as app,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client,
    ):

        async def publish(title: str) -> None:
            variables = {
                "input": {
                    "title": title,
                    "body": "Isi",
                    "category": "GENERAL",
                    "targets": [REGION],
                }
            }
            response = await client.post(
                "/graphql",
                json={"query": PUBLISH, "variables": variables},
                headers=cast.headers["admin"],
            )
            assert response.json()["data"]["announcementPublish"]["userErrors"] == []

        response = await client.post(
            "/graphql", json={"query": CURSOR, "variables": {"r": REGION}}
        )
        cursor = response.json()["data"]["announcements"]["eventCursor"]
        missed = ["Satu", "Dua", "Tiga"]
        for title in missed:
            await publish(title)
        accepts = [SSE, SSE, MULTIPART]
        # when: two SSE streams and a multipart one resume from that cursor
        async with (
            streamed(app, accepts[0], cursor) as first,
            streamed(app, accepts[1], cursor) as second,
            streamed(app, accepts[2], cursor) as third,
        ):
            streams = [first, second, third]
            await until(
                lambda: all(
                    titles(s, a) == missed
                    for s, a in zip(streams, accepts, strict=True)
                ),
                DEADLINE,
            )
            # then: one group, and one catch-up served all three
            (group,) = sharings[0].groups.values()
            assert len(group.members) == 3
            assert list(group.catch_ups) == [cursor]
            # when: one more is published, it reaches each once
            await publish("Empat")
            expected = [*missed, "Empat"]
            await until(
                lambda: all(
                    titles(s, a) == expected
                    for s, a in zip(streams, accepts, strict=True)
                ),
                DEADLINE,
            )
        assert sharings[0].groups == {}
