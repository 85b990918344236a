"""Webhooks against a real HTTP receiver started by the test (docs/webhooks.md)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest_asyncio

from kimgraph import models
from kimgraph.accounts.auth import account_principal
from kimgraph.app import create_app
from kimgraph.clock import FixedClock
from kimgraph.cursors import decode_event_cursor, decode_id, encode_id
from kimgraph.settings import Settings
from kimgraph.webhooks import endpoints, signing
from tests.conftest import execute
from tests.people import HOME_DESA, Cast

DEADLINE_S = 60.0
# A publish waits for no receiver: it returns well before a hanging receiver's 10 s
# timeout, with room for a loaded CI machine (docs/testing.md).
PUBLISH_BOUND_S = 8.0
REPORTER = "Siti Rahmawati"
CONTACT = "0812-5555-0199"

CREATE = """
mutation ($input: WebhookCreateInput!) {
  webhookCreate(input: $input) {
    webhook { id url status announcements }
    secret
    userErrors { code message field }
  }
}
"""
SUBMIT = """
mutation ($input: AspirationSubmitInput!) {
  aspirationSubmit(input: $input) { aspiration { id } userErrors { code } }
}
"""
DELIVERIES = """
query ($id: ID!) {
  webhookDeliveries(endpointId: $id) {
    totalCount
    edges { node { eventId status attempts lastResult } }
  }
}
"""


@dataclass
class Request:
    """One POST the receiver got, and what it answered."""

    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    """A real HTTP server in a thread; `answer` picks each response's status.

    An answer of 0 hangs (until the test ends): the sender must time out.
    """

    answer: Callable[[int], int] = lambda n: 200
    requests: list[Request] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def acknowledged(self) -> list[dict[str, Any]]:
        """Bodies answered 2xx, in the order they came."""
        return [json.loads(r.body) for r in self.requests if 200 <= r.status < 300]


@contextmanager
def receiving(answer: Callable[[int], int] = lambda n: 200) -> Iterator[Receiver]:
    """A receiver listening on a free port of 127.0.0.1 until the block ends."""
    receiver = Receiver(answer)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with lock:
                status = receiver.answer(len(receiver.requests))
                receiver.requests.append(
                    Request(dict(self.headers.items()), body, status)
                )
            if status == 0:
                receiver.release.wait(DEADLINE_S)
                status = 200
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()


async def until(condition: Callable[[], Awaitable[bool] | bool], what: str) -> None:
    """Wait for a condition with a generous deadline (CI is a loaded machine)."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        met = condition()
        if not isinstance(met, bool):
            met = await met
        if met:
            return
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def attempts_of(endpoint_id: str) -> list[int]:
    """Attempts of each delivery of a webhook, in event order."""
    rows = await models.WebhookDelivery.filter(
        endpoint_id=webhook_key(endpoint_id)
    ).order_by("event_id")
    return [row.attempts for row in rows]


def webhook_key(global_id: str) -> int:
    found = decode_id("Webhook", global_id)
    assert found is not None
    return found


@pytest_asyncio.fixture
async def served(
    ketapang: str, cast: Cast, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose lifespan runs: the webhook dispatcher is on."""
    settings = Settings(
        database_url=ketapang, webhooks_allow_http=True, event_poll_seconds=0.05
    )
    app = create_app(settings, clock=clock, manage_database=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


async def register(
    client: httpx.AsyncClient, cast: Cast, url: str, **extra: Any
) -> tuple[str, str]:
    """A webhook for the cast's partner key: (its id, its secret)."""
    key = await models.ApiKey.get(name="Aplikasi Layanan Publik")
    body = await execute(
        client,
        CREATE,
        {"input": {"apiKeyId": encode_id("ApiKey", key.id), "url": url, **extra}},
        cast.headers["admin"],
    )
    made = body["data"]["webhookCreate"]
    assert made["userErrors"] == [], made
    return made["webhook"]["id"], made["secret"]


async def submit(client: httpx.AsyncClient, title: str) -> None:
    body = await execute(
        client,
        SUBMIT,
        {
            "input": {
                "region": HOME_DESA,
                "title": title,
                "description": "Lampu jalan mati sejak minggu lalu.",
                "category": "INFRASTRUCTURE",
                "reporterName": REPORTER,
                "reporterContact": CONTACT,
                "visibility": "PUBLIC",
            }
        },
    )
    assert body["data"]["aspirationSubmit"]["userErrors"] == [], body


async def test_retried_events_arrive_once_each_in_order_signed_without_personal_data(
    served: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given: a receiver that fails three times, then acknowledges everything
    with receiving(lambda n: 500 if n < 3 else 200) as receiver:
        webhook, secret = await register(served, cast, receiver.url)
        # when: three aspirations are submitted
        for title in ("Lampu jalan mati", "Saluran air tersumbat", "Jembatan retak"):
            await submit(served, title)
        for failures in (1, 2, 3):
            # The injected clock passes each backoff once the failure is logged.
            await until(partial(_first_has, webhook, failures), f"failure {failures}")
            clock.advance(timedelta(minutes=5))
        await until(lambda: len(receiver.acknowledged()) == 3, "three acknowledgements")
        # then: each event acknowledged once, in event order
        acknowledged = receiver.acknowledged()
        ids = [decode_event_cursor(b["eventId"]) for b in acknowledged]
        assert ids == sorted(set(ids))
        assert [b["event"]["aspiration"]["title"] for b in acknowledged] == [
            "Lampu jalan mati",
            "Saluran air tersumbat",
            "Jembatan retak",
        ]
        assert [b["event"]["kind"] for b in acknowledged] == ["SUBMITTED"] * 3
        assert len(receiver.requests) == 6
        # every attempt of the first event sent the same bytes
        assert len({r.body for r in receiver.requests[:4]}) == 1
        for request in receiver.requests:
            header = request.headers[signing.HEADER]
            t = int(header.split(",")[0].removeprefix("t="))
            assert signing.verify(secret, header, request.body, now=t)
            assert not signing.verify("whsec_another", header, request.body, now=t)
            assert (
                request.headers["KIMgraph-Event-Id"]
                == json.loads(request.body)["eventId"]
            )
            text = request.body.decode()
            assert REPORTER not in text
            assert CONTACT not in text
            aspiration = json.loads(text)["event"]["aspiration"]
            assert aspiration["reporterName"] is None
            assert aspiration["reporterContact"] is None
        log = await execute(served, DELIVERIES, {"id": webhook}, cast.headers["admin"])
        nodes = [e["node"] for e in log["data"]["webhookDeliveries"]["edges"]]
        assert [(n["status"], n["attempts"], n["lastResult"]) for n in nodes] == [
            ("DELIVERED", 1, "HTTP 200"),
            ("DELIVERED", 1, "HTTP 200"),
            ("DELIVERED", 4, "HTTP 200"),
        ]


async def _first_has(webhook: str, failures: int) -> bool:
    attempts = await attempts_of(webhook)
    return bool(attempts) and attempts[0] == failures


async def test_a_hanging_receiver_delays_neither_another_endpoint_nor_a_publish(
    served: httpx.AsyncClient, cast: Cast
) -> None:
    # given: one receiver that never answers, one that does
    with receiving(lambda n: 0) as hanging, receiving() as healthy:
        stuck, _ = await register(served, cast, hanging.url)
        await register(served, cast, healthy.url)
        # when
        started = time.monotonic()
        await submit(served, "Lampu jalan mati")
        published_in = time.monotonic() - started
        await until(lambda: len(healthy.acknowledged()) == 1, "the healthy endpoint")
        await until(lambda: len(hanging.requests) == 1, "the hanging request")
        # then: the healthy one had it while the other was still hanging (its
        # attempt, in flight, is not over before the 10 s timeout)
        assert await attempts_of(stuck) == [0]
        assert published_in < PUBLISH_BOUND_S
        # and the hanging one is timed out, to be retried later
        await until(lambda: _first_has(stuck, 1), "the timeout")
        row = await models.WebhookDelivery.get(endpoint_id=webhook_key(stuck))
        assert (row.status, row.last_result) == (
            models.DeliveryStatus.PENDING,
            "no answer within 10 s",
        )


async def test_an_event_failing_for_24_hours_suspends_until_enabled_then_resumes(
    served: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given: a receiver that fails until the test lets it succeed
    failing = [True]
    with receiving(lambda n: 500 if failing[0] else 200) as receiver:
        webhook, _ = await register(served, cast, receiver.url)
        await submit(served, "Lampu jalan mati")
        await submit(served, "Saluran air tersumbat")
        # when: the injected clock passes 24 hours of retries
        failures = 0
        while not await _status_is(webhook, models.DeliveryStatus.FAILED):
            failures += 1
            await until(partial(_first_has, webhook, failures), f"failure {failures}")
            clock.advance(timedelta(hours=2))
        # then: suspended; the later event was never sent (order holds)
        endpoint = await models.WebhookEndpoint.get(id=webhook_key(webhook))
        assert endpoint.status is models.WebhookStatus.SUSPENDED
        assert failures == 13  # at 0 h, 2 h, ... 24 h: the window has passed
        assert len({json.loads(r.body)["eventId"] for r in receiver.requests}) == 1
        assert await attempts_of(webhook) == [13, 0]
        # when: the receiver is fixed and an ADMIN enables the webhook
        failing[0] = False
        admin = await models.Account.get(username="diskominfo")
        await endpoints.enable(clock, account_principal(admin), webhook_key(webhook))
        # then: the failed event first, then the next, each once
        await until(lambda: len(receiver.acknowledged()) == 2, "both events")
        assert [b["event"]["aspiration"]["title"] for b in receiver.acknowledged()] == [
            "Lampu jalan mati",
            "Saluran air tersumbat",
        ]


async def _status_is(webhook: str, status: models.DeliveryStatus) -> bool:
    first = (
        await models.WebhookDelivery.filter(endpoint_id=webhook_key(webhook))
        .order_by("event_id")
        .first()
    )
    return first is not None and first.status is status


async def test_two_processes_deliver_each_event_to_each_endpoint_once(
    served: httpx.AsyncClient, cast: Cast, clock: FixedClock, ketapang: str
) -> None:
    # given: a second app on the same database, both dispatchers running
    settings = Settings(
        database_url=ketapang, webhooks_allow_http=True, event_poll_seconds=0.05
    )
    other = create_app(settings, clock=clock, manage_database=False)
    async with other.router.lifespan_context(other):
        with receiving() as one, receiving() as two, receiving() as three:
            for receiver in (one, two, three):
                await register(served, cast, receiver.url)
            # when
            for title in ("Lampu jalan mati", "Saluran air tersumbat"):
                await submit(served, title)
            # then
            await until(_all_delivered, "six deliveries")
            holders = await models.WebhookEndpoint.all().values_list(
                "holder", flat=True
            )
            assert all(holders)
    for receiver in (one, two, three):
        titles = [b["event"]["aspiration"]["title"] for b in receiver.acknowledged()]
        assert titles == ["Lampu jalan mati", "Saluran air tersumbat"]
        assert len(receiver.requests) == 2


async def _all_delivered() -> bool:
    rows = await models.WebhookDelivery.all()
    return [row.status for row in rows] == [models.DeliveryStatus.DELIVERED] * 6


PUBLISH = """
mutation ($input: AnnouncementPublishInput!) {
  announcementPublish(input: $input) { userErrors { code } }
}
"""


async def test_announcement_events_come_in_the_one_event_order_when_subscribed(
    served: httpx.AsyncClient, cast: Cast
) -> None:
    # given: one webhook with announcements, one without
    with receiving() as both, receiving() as aspirations_only:
        await register(served, cast, both.url, announcements=True)
        await register(served, cast, aspirations_only.url)
        # when: an aspiration, an announcement, an aspiration
        await submit(served, "Lampu jalan mati")
        published = await execute(
            served,
            PUBLISH,
            {
                "input": {
                    "title": "Kerja bakti Minggu pagi",
                    "body": "Seluruh warga diundang.",
                    "category": "GENERAL",
                    "targets": [HOME_DESA],
                }
            },
            cast.headers["admin"],
        )
        assert published["data"]["announcementPublish"]["userErrors"] == []
        await submit(served, "Jembatan retak")
        # then
        await until(lambda: len(both.acknowledged()) == 3, "three events")
        await until(lambda: len(aspirations_only.acknowledged()) == 2, "two events")
        bodies = both.acknowledged()
        assert [b["stream"] for b in bodies] == [
            "aspiration",
            "announcement",
            "aspiration",
        ]
        assert bodies[1]["event"]["announcement"]["title"] == "Kerja bakti Minggu pagi"
        ids = [decode_event_cursor(b["eventId"]) for b in bodies]
        assert ids == sorted(ids)
        assert [b["stream"] for b in aspirations_only.acknowledged()] == [
            "aspiration",
            "aspiration",
        ]
