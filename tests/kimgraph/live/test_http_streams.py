"""Subscriptions over HTTP in process: headers, refusals, heartbeats, slow readers.

httpx's ASGI transport reads a response whole, so these drive the app's ASGI
callable directly and read its messages as they are sent. Events end to end,
with real clients: tests/e2e/test_http_subscriptions.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlencode

import httpx
import pytest
from graphql import GraphQLError
from starlette.types import Message
from strawberry.types import ExecutionResult, SubscriptionExecutionResult

from kimgraph.app import create_app
from kimgraph.clock import Clock, FixedClock
from kimgraph.live import http_streams, http_transports
from kimgraph.live.hub import Hub
from kimgraph.live.slow_consumers import SlowConsumers
from kimgraph.settings import Settings
from tests.people import Cast

REGION = "61.04.16.2006"
SUBSCRIPTION = "subscription($r: String!) { announcementEvents(region: $r) { cursor } }"
SSE = "text/event-stream"
MULTIPART = 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json'
DEADLINE = 30.0


@dataclass
class Stream:
    """One HTTP request to the app, its sent messages collected as they come."""

    messages: list[Message] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    # Cleared: the client reads nothing, and the server's sends wait.
    reading: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.reading.set()

    async def send(self, message: Message) -> None:
        await self.reading.wait()
        self.messages.append(message)
        self.arrived.set()

    @property
    def start(self) -> Message:
        return self.messages[0]

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.start["headers"]}

    @property
    def body(self) -> str:
        return b"".join(m.get("body", b"") for m in self.messages[1:]).decode()

    async def until(self, text: str) -> None:
        """Wait (generously) until the body holds text."""
        async with asyncio.timeout(DEADLINE):
            while text not in self.body:
                self.arrived.clear()
                await self.arrived.wait()


@asynccontextmanager
async def app_of(settings: Settings, clock: Clock) -> AsyncIterator[Any]:
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def opened(
    app: Any,
    accept: str,
    query: str = SUBSCRIPTION,
    region: str = REGION,
    authorization: str | None = None,
    method: str = "POST",
) -> AsyncIterator[Stream]:
    """POST (or GET) a subscription with `accept`; the stream, cancelled on exit."""
    operation = {"query": query, "variables": {"r": region}}
    body, query_string = json.dumps(operation).encode(), b""
    if method == "GET":
        params = {"query": query, "variables": json.dumps(operation["variables"])}
        body, query_string = b"", urlencode(params).encode()
    requested = False

    async def receive() -> Message:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never goes away by itself
        raise AssertionError

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": query_string,
        "headers": [
            (b"content-type", b"application/json"),
            (b"accept", accept.encode()),
            *([(b"authorization", authorization.encode())] if authorization else []),
        ],
        "client": ("192.0.2.7", 4000),
        "server": ("test", 80),
    }
    stream = Stream()
    task = asyncio.create_task(app(scope, receive, stream.send))
    try:
        async with asyncio.timeout(DEADLINE):
            while not stream.messages and not task.done():
                stream.arrived.clear()
                await stream.arrived.wait()
        yield stream
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def sse_error(message: str, code: str) -> str:
    """The `next` event of a stream that ends on one error, as graphql-sse writes it."""
    error = {"message": message, "extensions": {"code": code}}
    payload = json.dumps({"data": None, "errors": [error]}, separators=(",", ":"))
    return f"event: next\r\ndata: {payload}\r\n\r\n"


@pytest.fixture
def settings(ketapang: str) -> Settings:
    return Settings(database_url=ketapang)


@pytest.mark.usefixtures("no_errors_logged")
async def test_an_sse_subscription_streams_events_with_sse_headers(
    settings: Settings, clock: FixedClock
) -> None:
    # given
    # when: a region that does not exist, so that the one event is its error
    async with (
        app_of(settings, clock) as app,
        opened(app, SSE, region="61.04.99") as stream,
    ):
        await stream.until("event: complete")
    # then
    assert stream.start["status"] == 200
    assert stream.headers["content-type"] == "text/event-stream"
    assert stream.headers["cache-control"] == "no-cache, no-transform"
    assert stream.body == sse_error(
        "there is no region with code 61.04.99", "NOT_FOUND"
    ) + ("event: complete\r\ndata: \r\n\r\n")


@pytest.mark.usefixtures("no_errors_logged")
async def test_an_sse_subscription_may_be_a_get_as_eventsource_sends(
    settings: Settings, clock: FixedClock
) -> None:
    # when
    async with (
        app_of(settings, clock) as app,
        opened(app, SSE, region="61.04.99", method="GET") as stream,
    ):
        await stream.until("event: complete")
    # then
    assert (stream.start["status"], stream.headers["content-type"]) == (
        200,
        "text/event-stream",
    )
    assert stream.body.startswith(
        'event: next\r\ndata: {"data":null,"errors":[{"message":"there is no '
        'region with code 61.04.99","extensions":{"code":"NOT_FOUND"}}]}\r\n\r\n'
    )


@pytest.mark.usefixtures("no_errors_logged")
async def test_a_multipart_subscription_has_the_graphql_boundary(
    settings: Settings, clock: FixedClock
) -> None:
    # given
    # when
    async with (
        app_of(settings, clock) as app,
        opened(app, MULTIPART, region="61.04.99") as stream,
    ):
        await stream.until("--graphql--")
    # then
    assert stream.start["status"] == 200
    assert stream.headers["content-type"] == (
        "multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/json"
    )
    payload = (
        '{"payload":{"data":null,"errors":[{"message":"there is no region with '
        'code 61.04.99","extensions":{"code":"NOT_FOUND"}}]}}'
    )
    part = "\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: "
    assert stream.body == (
        f"{part}2\r\n\r\n{{}}\r\n--graphql"  # the first heartbeat
        f"{part}{len(payload)}\r\n\r\n{payload}\r\n--graphql"
        "\r\n--graphql--\r\n"
    )


@pytest.mark.usefixtures("no_errors_logged")
@pytest.mark.parametrize(
    ("accept", "query", "message"),
    [
        (
            "application/json",
            SUBSCRIPTION,
            "A subscription over HTTP needs Accept: text/event-stream (graphql-sse) "
            'or multipart/mixed;subscriptionSpec="1.0" (Apollo multipart); or '
            "subscribe over the WebSocket.",
        ),
        (
            'multipart/mixed;subscriptionSpec="2.0"',
            SUBSCRIPTION,
            http_streams.SUBSCRIPTION_NEEDS_STREAM,
        ),
        (
            SSE,
            "query($r: String!) { region(code: $r) { name } }",
            "Only subscriptions stream over HTTP: send queries and mutations with "
            "Accept: application/json.",
        ),
    ],
)
async def test_what_cannot_stream_is_refused_with_bad_request(
    settings: Settings, clock: FixedClock, accept: str, query: str, message: str
) -> None:
    # given
    # when
    async with app_of(settings, clock) as app, opened(app, accept, query) as stream:
        await stream.until("}")
    # then
    assert stream.start["status"] == 400
    assert json.loads(stream.body) == {
        "data": None,
        "errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}],
    }


@pytest.mark.usefixtures("no_errors_logged")
@pytest.mark.parametrize(
    ("accept", "heartbeat"),
    [
        (SSE, ": ping\r\n\r\n"),
        (
            MULTIPART,
            "\r\nContent-Type: application/json; charset=utf-8\r\n"
            "Content-Length: 2\r\n\r\n{}\r\n--graphql",
        ),
    ],
)
async def test_an_idle_stream_sends_heartbeats(
    settings: Settings,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    accept: str,
    heartbeat: str,
) -> None:
    # given: heartbeats every 10 ms instead of every 15 s or 5 s
    monkeypatch.setattr(http_transports.ServerSentEvents, "heartbeat_interval", 0.01)
    monkeypatch.setattr(http_transports.Multipart, "heartbeat_interval", 0.01)
    # when
    async with app_of(settings, clock) as app, opened(app, accept) as stream:
        async with asyncio.timeout(DEADLINE):
            while stream.body.count(heartbeat) < 3:
                stream.arrived.clear()
                await stream.arrived.wait()
    # then: heartbeats only, no event
    assert stream.start["status"] == 200
    assert stream.body.replace(heartbeat, "").strip("\r\n") == ""


@pytest.mark.usefixtures("no_errors_logged")
async def test_streams_count_against_the_per_address_cap(
    ketapang: str, clock: FixedClock
) -> None:
    # given: one connection per address, held by an open SSE stream
    settings = Settings(database_url=ketapang, ws_max_per_address=1)
    async with app_of(settings, clock) as app:
        async with opened(app, SSE) as first:
            assert http_streams.OpenStreams.count == {
                "sse": 1,
                "multipart-subscription": 0,
            }
            # when
            async with opened(app, MULTIPART) as second:
                await second.until("}")
        # then
        assert first.start["status"] == 200
        assert second.start["status"] == 429
        assert second.headers["retry-after"] == "30"
        assert json.loads(second.body) == {
            "data": None,
            "errors": [
                {
                    "message": "Too many open connections from this address: "
                    "close one, or retry later.",
                    "extensions": {"code": "TOO_MANY_REQUESTS"},
                }
            ],
        }
        # and the count is released with the stream
        assert http_streams.OpenStreams.count == {
            "sse": 0,
            "multipart-subscription": 0,
        }
        async with opened(app, MULTIPART) as third:
            assert third.start["status"] == 200


def _results(*results: ExecutionResult) -> SubscriptionExecutionResult:
    """A subscription's source that yields results, then ends."""

    async def source() -> AsyncGenerator[ExecutionResult]:
        for result in results:
            yield result

    return cast(SubscriptionExecutionResult, source())


async def test_a_stream_the_hub_ended_tells_the_reader_it_was_too_slow() -> None:
    # given: a subscription that ended after data only (the hub dropped its
    # reader for falling behind: resolvers.streams)
    before = SlowConsumers.closed
    event = ExecutionResult(data={"announcementEvents": {"cursor": "c"}}, errors=None)
    # when
    results = [r async for r in http_streams.watched(_results(event))]
    # then
    assert results[0] is event
    assert [(r.data, [e.formatted for e in r.errors or []]) for r in results[1:]] == [
        (
            None,
            [
                {
                    "message": "The subscriber fell too far behind: subscribe again "
                    "with `after` set to the last cursor received.",
                    "extensions": {"code": "SLOW_CONSUMER"},
                }
            ],
        )
    ]
    assert SlowConsumers.closed == before + 1


async def test_a_stream_that_ended_on_an_error_is_not_called_slow() -> None:
    # given
    before = SlowConsumers.closed
    failed = ExecutionResult(data=None, errors=[GraphQLError("cursor expired")])
    # when
    results = [r async for r in http_streams.watched(_results(failed))]
    # then
    assert results == [failed]
    assert SlowConsumers.closed == before


@pytest.mark.usefixtures("no_errors_logged")
async def test_revoking_the_token_ends_its_streams(
    settings: Settings, clock: FixedClock, cast: Cast
) -> None:
    # given: an SSE stream signed in with the admin's token
    authorization = cast.headers["admin"]["authorization"]
    async with (
        app_of(settings, clock) as app,
        opened(app, SSE, authorization=authorization) as stream,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client,
    ):
        # when
        revoked = await client.post(
            "/graphql",
            json={"query": "mutation { tokenRevoke { revoked closedConnections } }"},
            headers={"authorization": authorization},
        )
        await stream.until("event: complete")
    # then
    assert revoked.json() == {
        "data": {"tokenRevoke": {"revoked": True, "closedConnections": 1}}
    }
    assert stream.body == sse_error("token revoked", "UNAUTHENTICATED") + (
        "event: complete\r\ndata: \r\n\r\n"
    )


@pytest.mark.usefixtures("no_errors_logged")
async def test_a_stream_with_a_bad_credential_is_refused(
    settings: Settings, clock: FixedClock
) -> None:
    # when
    async with (
        app_of(settings, clock) as app,
        opened(app, SSE, authorization="Bearer bukan-token") as stream,
    ):
        await stream.until("}")
    # then
    assert stream.start["status"] == 401
    assert json.loads(stream.body)["errors"][0]["extensions"] == {
        "code": "UNAUTHENTICATED"
    }
    assert http_streams.OpenStreams.count == {"sse": 0, "multipart-subscription": 0}


PUBLISH = """
mutation ($input: AnnouncementPublishInput!) {
  announcementPublish(input: $input) { announcement { id } userErrors { code } }
}
"""


@pytest.mark.usefixtures("no_errors_logged")
async def test_a_reader_that_stops_reading_is_ended_as_a_slow_consumer(
    ketapang: str, clock: FixedClock, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: queues of one event, and a hub that waits 50 ms for a full one
    hubs: list[Hub] = []

    def hub(*args: Any, **kwargs: Any) -> Hub:
        hubs.append(Hub(*args, **kwargs, patience=0.05))
        return hubs[-1]

    monkeypatch.setattr("kimgraph.app.Hub", hub)
    settings = Settings(database_url=ketapang, subscriber_queue_size=1)
    before = SlowConsumers.closed
    async with (
        app_of(settings, clock) as app,
        opened(app, SSE) as stream,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client,
    ):
        # when: the reader stops reading while announcements are published,
        # until the hub gives up on it
        stream.reading.clear()
        published = 0
        overflows = http_streams.SharedStream.overflows
        # A shared stream's own queue overflows (kimgraph.live.http_streams);
        # one run alone, its hub subscription's.
        while not (
            any(s.overflowed for s in hubs[0]._subscriptions)
            or http_streams.SharedStream.overflows > overflows
        ):
            assert published < 50, "the hub never gave up on the reader"
            response = await client.post(
                "/graphql",
                json={
                    "query": PUBLISH,
                    "variables": {
                        "input": {
                            "title": f"Pengumuman {published}",
                            "body": "Isi",
                            "category": "GENERAL",
                            "targets": [REGION],
                        }
                    },
                },
                headers=cast.headers["admin"],
            )
            assert response.json()["data"]["announcementPublish"]["userErrors"] == []
            published += 1
        stream.reading.set()
        await stream.until("event: complete")
    # then: what it had taken, then SLOW_CONSUMER, and the stream completes
    events = stream.body.split("\r\n\r\n")
    assert events[-1] == ""
    assert events[-2] == "event: complete\r\ndata: "
    slow = sse_error(
        "The subscriber fell too far behind: subscribe again with "
        "`after` set to the last cursor received.",
        "SLOW_CONSUMER",
    )
    assert events[-3] + "\r\n\r\n" == slow
    taken = [json.loads(e.split("data: ", 1)[1]) for e in events[:-3]]
    assert 1 <= len(taken) < published
    assert all(t.keys() == {"data"} for t in taken)
    assert SlowConsumers.closed == before + 1
    assert hubs[0].subscriber_count == 0
