"""A mutation sent again with its Idempotency-Key is applied once (issue 16).

The fault is real: the PostgreSQL backend of the publish's transaction is
terminated right after its COMMIT, so returning the connection to the pool
fails, as asyncpg's "cannot switch to state 15" did in the fault run
(kimgraph.idempotency, docs/http.md "Retrying mutations").
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from tortoise.backends.asyncpg.client import TransactionWrapper

from kimgraph import idempotency, models
from kimgraph.accounts import auth
from kimgraph.clock import FixedClock
from kimgraph.cursors import encode_event_cursor, encode_id
from kimgraph.idempotency import APPLIED_MESSAGE, KEPT_FOR
from tests.people import HOME_DESA, PASSWORD, Cast
from tests.services import POSTGRES_URL

MUTATION_ANNOUNCEMENT_PUBLISH = """
mutation ($input: AnnouncementPublishInput!) {
  announcementPublish(input: $input) {
    announcement { id title }
    userErrors { field code message }
  }
}
"""
KEY = "4b1d6c1e-6a55-4c4e-9d43-0c2f3f3a9e01"
ON_POSTGRES = pytest.mark.parametrize(
    "database_url",
    [pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)


def publishing(title: str) -> dict[str, Any]:
    draft = {
        "title": title,
        "body": "Isi",
        "category": "GENERAL",
        "targets": [HOME_DESA],
    }
    return {"query": MUTATION_ANNOUNCEMENT_PUBLISH, "variables": {"input": draft}}


async def _terminate(pid: int) -> None:
    admin = await asyncpg.connect(POSTGRES_URL + "postgres", timeout=5)
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
        deadline = time.monotonic() + 30
        query = "SELECT count(*) FROM pg_stat_activity WHERE pid = $1"
        while await admin.fetchval(query, pid):
            assert time.monotonic() < deadline, "the backend outlived its termination"
            await asyncio.sleep(0.01)
    finally:
        await admin.close()


def connection_lost_after_commit(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The next COMMIT succeeds, then its backend is gone: the pool's reset fails.

    The termination runs in another thread while this event loop waits, so
    the connection has not yet seen its socket close when it is released.
    """
    original = TransactionWrapper.commit
    terminated: list[int] = []

    async def commit_then_lose_connection(self: TransactionWrapper) -> None:
        await original(self)
        if terminated:
            return
        pid = self._connection.get_server_pid()
        terminated.append(pid)
        thread = threading.Thread(target=asyncio.run, args=(_terminate(pid),))
        thread.start()
        thread.join()

    monkeypatch.setattr(TransactionWrapper, "commit", commit_then_lose_connection)
    return terminated


async def applied(title: str) -> list[dict[str, str]]:
    """What extensions.applied names for the one announcement with this title."""
    (row,) = await models.Announcement.filter(title=title)
    (event,) = await models.Event.filter(stream="announcement", entity_id=row.id)
    return [
        {
            "id": encode_id("Announcement", row.id),
            "kind": "PUBLISHED",
            "eventCursor": encode_event_cursor(event.id),
        }
    ]


async def applied_without_answer(title: str) -> dict[str, Any]:
    """The answer naming what the one announcement with this title applied."""
    error = {
        "message": APPLIED_MESSAGE,
        "extensions": {
            "code": "APPLIED_WITHOUT_ANSWER",
            "applied": await applied(title),
        },
    }
    return {"data": None, "errors": [error]}


async def publish_twice(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> tuple[httpx.Response, httpx.Response]:
    """The same publish, then the same request again with the same headers."""
    first = await client.post(
        "/graphql", json=publishing("Kerja bakti"), headers=headers
    )
    again = await client.post(
        "/graphql", json=publishing("Kerja bakti"), headers=headers
    )
    return first, again


@ON_POSTGRES
async def test_a_publish_whose_connection_fails_after_commit_is_applied_once(
    client: httpx.AsyncClient, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the connection is lost just after the publish commits
    terminated = connection_lost_after_commit(monkeypatch)
    headers = {**cast.headers["admin"], "Idempotency-Key": KEY}
    # when: the client publishes, then sends the same request with its key
    first, again = await publish_twice(client, headers)
    # then: the fault happened, one announcement exists, and both answers say so
    assert len(terminated) == 1
    expected = await applied_without_answer("Kerja bakti")
    assert (first.status_code, first.json()) == (200, expected)
    assert (again.status_code, again.json()) == (200, expected)


@ON_POSTGRES
async def test_a_publish_whose_key_cannot_be_read_back_is_503_and_its_retry_knows(
    client: httpx.AsyncClient, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the connection is lost just after the publish commits, and reading
    # the key back then fails as it did in the fault run (an unanswered 500)
    terminated = connection_lost_after_commit(monkeypatch)
    calls: list[str] = []
    original = idempotency._find

    async def find_failing_the_read_back(claim: idempotency.Claim) -> Any:
        calls.append(claim.key)
        if len(calls) == 2:
            raise asyncpg.exceptions.ConnectionDoesNotExistError(
                "connection was closed in the middle of operation"
            )
        return await original(claim)

    monkeypatch.setattr(idempotency, "_find", find_failing_the_read_back)
    headers = {**cast.headers["admin"], "Idempotency-Key": KEY}
    # when
    first, again = await publish_twice(client, headers)
    # then: unknown at first, so a 503 to retry, and the retry says what applied
    assert len(terminated) == 1
    assert (first.status_code, first.headers["retry-after"], first.json()) == (
        503,
        "1",
        {
            "data": None,
            "errors": [
                {
                    "message": "The database did not answer; try again shortly",
                    "extensions": {"code": "SERVICE_UNAVAILABLE"},
                }
            ],
        },
    )
    assert (again.status_code, again.json()) == (
        200,
        await applied_without_answer("Kerja bakti"),
    )


@ON_POSTGRES
async def test_without_a_key_a_change_committed_before_a_failure_is_not_internal(
    client: httpx.AsyncClient, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    terminated = connection_lost_after_commit(monkeypatch)
    # when
    answer = await client.post(
        "/graphql", json=publishing("Posyandu"), headers=cast.headers["admin"]
    )
    # then: told it was saved (not INTERNAL), and it was, once
    assert len(terminated) == 1
    (error,) = answer.json()["errors"]
    assert error["extensions"] == {"code": "APPLIED_WITHOUT_ANSWER"}
    assert error["message"].startswith("the change was saved, but the server failed")
    assert len(await applied("Posyandu")) == 1


async def test_a_retried_publish_gets_its_first_answer_and_publishes_nothing(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: a publish answered
    headers = {**cast.headers["admin"], "Idempotency-Key": KEY}
    first = await client.post(
        "/graphql", json=publishing("Rapat desa"), headers=headers
    )
    assert first.json()["data"]["announcementPublish"]["userErrors"] == []
    # when: it is sent again with the same key
    again = await client.post(
        "/graphql", json=publishing("Rapat desa"), headers=headers
    )
    # then: the same answer, marked as replayed, and still one announcement
    assert (again.status_code, again.json()) == (200, first.json())
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await models.Announcement.filter(title="Rapat desa").count() == 1


async def test_a_key_used_for_another_request_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    headers = {**cast.headers["admin"], "Idempotency-Key": KEY}
    await client.post("/graphql", json=publishing("Rapat desa"), headers=headers)
    # when
    other = await client.post("/graphql", json=publishing("Lain"), headers=headers)
    # then
    assert (other.status_code, other.json()) == (
        422,
        {
            "data": None,
            "errors": [
                {
                    "message": "this Idempotency-Key was used for another request",
                    "extensions": {"code": "IDEMPOTENCY_KEY_REUSED"},
                }
            ],
        },
    )
    assert await models.Announcement.filter(title="Lain").count() == 0


async def test_an_expired_key_is_a_new_request(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given: a publish with a key, a day ago (and a token of today)
    headers = {**cast.headers["admin"], "Idempotency-Key": KEY}
    await client.post("/graphql", json=publishing("Rapat desa"), headers=headers)
    clock.advance(KEPT_FOR + timedelta(seconds=1))
    token, _ = await auth.issue_token(clock, "diskominfo", PASSWORD)
    headers = {"authorization": f"Bearer {token}", "Idempotency-Key": KEY}
    # when
    again = await client.post(
        "/graphql", json=publishing("Rapat desa"), headers=headers
    )
    # then: applied again
    assert again.json()["data"]["announcementPublish"]["userErrors"] == []
    assert "idempotent-replayed" not in again.headers
    assert await models.Announcement.filter(title="Rapat desa").count() == 2


async def test_a_key_belongs_to_one_caller(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: a publish with a key
    headers = {**cast.headers["admin"], "Idempotency-Key": KEY}
    await client.post("/graphql", json=publishing("Rapat desa"), headers=headers)
    # when: another caller sends the same request with the same key
    headers = {**cast.headers["officer_in_scope"], "Idempotency-Key": KEY}
    again = await client.post(
        "/graphql", json=publishing("Rapat desa"), headers=headers
    )
    # then: it is the other caller's own request, applied
    assert again.json()["data"]["announcementPublish"]["userErrors"] == []
    assert "idempotent-replayed" not in again.headers
    assert await models.Announcement.filter(title="Rapat desa").count() == 2


async def test_a_malformed_key_is_refused_before_anything_runs(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    headers = {**cast.headers["admin"], "Idempotency-Key": "dua kata"}
    answer = await client.post("/graphql", json=publishing("Rapat"), headers=headers)
    assert (answer.status_code, answer.json()["errors"][0]["extensions"]) == (
        400,
        {"code": "BAD_REQUEST"},
    )
    assert await models.Announcement.filter(title="Rapat").count() == 0
