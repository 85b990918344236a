"""Rate limits in Redis: one allowance for every process; Redis away, each alone.

Two RedisStore objects stand for two server processes. Each test uses a key
prefix of its own on the test Redis and deletes its keys afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
import redis.asyncio
from redis.exceptions import ConnectionError as RedisConnectionError

from kimgraph import models
from kimgraph.accounts import auth
from kimgraph.accounts.principals import Role
from kimgraph.app import create_app
from kimgraph.aspirations.submission import submission_limiter
from kimgraph.clock import FixedClock
from kimgraph.errors import UserInputError
from kimgraph.rate_limit import RateLimiter, RedisStore
from kimgraph.redis_outage import COMMAND_TIMEOUT_S
from kimgraph.settings import Settings
from tests.people import HOME_DESA, PASSWORD, Cast
from tests.services import redis_url

# Nothing listens on port 1: connecting is refused at once.
UNREACHABLE = "redis://127.0.0.1:1/0"
WRONG = "tebakan salah"
MUTATION = """
mutation ($input: TokenCreateInput!) {
  tokenCreate(input: $input) { token userErrors { code } }
}
"""


@pytest.fixture
async def stores() -> AsyncIterator[Callable[..., RedisStore]]:
    """Makes stores on the test Redis under one fresh prefix."""
    url = redis_url()
    prefix = f"kimgraph-test:{uuid.uuid4().hex}:"
    made: list[RedisStore] = []

    def make(timeout_s: float = COMMAND_TIMEOUT_S) -> RedisStore:
        made.append(RedisStore(url, prefix=prefix, timeout_s=timeout_s))
        return made[-1]

    yield make
    for store in made:
        await store.close()
    async with redis.asyncio.Redis.from_url(url) as client:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)


def limiter(clock: FixedClock, store: RedisStore) -> RateLimiter:
    return RateLimiter(clock, capacity=5, per_second=1 / 60, store=store, name="t")


async def test_two_processes_spend_from_one_allowance(
    stores: Callable[[], RedisStore], clock: FixedClock
) -> None:
    first, second = limiter(clock, stores()), limiter(clock, stores())
    # when
    spent = [(await first.acquire("203.0.113.7")).allowed for _ in range(3)]
    spent += [(await second.acquire("203.0.113.7")).allowed for _ in range(3)]
    # then
    assert spent == [True] * 5 + [False]
    assert (await first.acquire("203.0.113.7")).retry_after == 60
    assert (await second.acquire("198.51.100.1")).allowed
    clock.advance(timedelta(seconds=60))
    assert (await first.acquire("203.0.113.7")).allowed
    assert not (await second.acquire("203.0.113.7")).allowed


async def test_concurrent_takes_from_two_processes_never_overspend(
    stores: Callable[..., RedisStore], clock: FixedClock
) -> None:
    # given: two processes' stores that wait for a loaded machine's Redis rather
    # than count alone (a take slower than the usual 1 s counts as an outage)
    first_store, second_store = stores(timeout_s=60.0), stores(timeout_s=60.0)
    first, second = limiter(clock, first_store), limiter(clock, second_store)
    takes = [first.acquire("k") if n % 2 else second.acquire("k") for n in range(60)]
    # when
    taken = await asyncio.gather(*takes)
    # then
    assert (first_store.away, second_store.away) == (False, False)
    assert sum(t.allowed for t in taken) == 5


async def test_the_sign_in_throttle_is_shared_and_successes_are_given_back(
    stores: Callable[[], RedisStore], clock: FixedClock
) -> None:
    first = auth.SignInThrottle(clock, stores())
    second = auth.SignInThrottle(clock, stores())
    taken = [await first.attempt("203.0.113.7", "admin") for _ in range(9)]
    success = await second.attempt("203.0.113.7", "ADMIN")
    await second.succeeded(success)
    await first.attempt("203.0.113.7", "admin")
    # when: the eleventh attempt, in the other process
    with pytest.raises(UserInputError) as caught:
        await second.attempt("203.0.113.7", "admin")
    # then
    assert [p.message for p in caught.value.problems] == [
        "too many failed sign-ins; try again in 2 minute(s)"
    ]
    assert len(taken) == 9


async def test_buckets_expire_once_they_would_be_full_again(
    stores: Callable[[], RedisStore], clock: FixedClock
) -> None:
    store = stores()
    await limiter(clock, store).acquire("203.0.113.7")
    async with redis.asyncio.Redis.from_url(redis_url()) as client:
        ttl = await client.pttl(store.prefix + "t:203.0.113.7")
    assert 300_000 < ttl <= 301_000  # 5 tokens at one a minute, and a second


async def test_without_redis_each_process_limits_alone_and_warns_once(
    clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    store = RedisStore(UNREACHABLE)
    limited = limiter(clock, store)
    try:
        with caplog.at_level(logging.INFO, logger="kimgraph.rate_limit"):
            spent = [(await limited.acquire("a")).allowed for _ in range(6)]
            clock.advance(timedelta(seconds=60))  # Redis is tried again: still away
            spent.append((await limited.acquire("a")).allowed)
    finally:
        await store.close()
    assert spent == [True] * 5 + [False, True]
    assert store.away
    assert [(r.levelname, r.getMessage()[:58]) for r in caplog.records] == [
        ("WARNING", "rate limits: Redis is unreachable, each process limits alo")
    ]


async def test_shared_limits_resume_when_redis_answers_again(
    stores: Callable[[], RedisStore],
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, other = stores(), stores()
    real = store._take
    outage = True

    async def flaky(**kwargs: Any) -> Any:
        if outage:
            raise RedisConnectionError("Connection refused")
        return await real(**kwargs)

    monkeypatch.setattr(store, "_take", flaky)
    with caplog.at_level(logging.INFO, logger="kimgraph.rate_limit"):
        # while away: this process's own buckets, Redis untouched
        for _ in range(3):
            assert (await limiter(clock, store).acquire("a")).allowed
        outage = False
        assert (await limiter(clock, store).acquire("a")).allowed  # not retried yet
        assert store.away
        clock.advance(timedelta(seconds=store.retry_seconds))
        # then: back to the shared buckets, which the other process spent
        for _ in range(5):
            assert (await limiter(clock, other).acquire("a")).allowed
        assert not (await limiter(clock, store).acquire("a")).allowed
    assert not store.away
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]
    assert caplog.records[1].getMessage() == (
        "rate limits: Redis answers again; limits are shared"
    )


async def test_a_sign_in_succeeds_over_http_while_redis_is_away(
    ketapang: str, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    await auth.create_account(
        clock, username="admin", password=PASSWORD, role=Role.ADMIN, region_code="61.04"
    )
    app = create_app(
        Settings(database_url=ketapang, redis_url=UNREACHABLE), clock=clock
    )
    variables = {"input": {"username": "admin", "password": PASSWORD}}
    transport = httpx.ASGITransport(app=app)
    with caplog.at_level(logging.WARNING):
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            for _ in range(3):
                response = await c.post(
                    "/graphql", json={"query": MUTATION, "variables": variables}
                )
                assert response.status_code == 200
                assert response.json()["data"]["tokenCreate"]["userErrors"] == []
    await app.state.sign_in_throttle.store.close()
    assert await models.AccessToken.all().count() == 3
    warnings = [r for r in caplog.records if r.name == "kimgraph.rate_limit"]
    assert len(warnings) == 1


async def test_two_servers_sharing_redis_answer_429_for_a_spent_allowance(
    ketapang: str, clock: FixedClock, stores: Callable[[], RedisStore]
) -> None:
    await auth.create_account(
        clock, username="admin", password=PASSWORD, role=Role.ADMIN, region_code="61.04"
    )
    settings = Settings(database_url=ketapang, redis_url=redis_url())
    apps = [create_app(settings, clock=clock) for _ in range(2)]
    for app in apps:  # the fixture's prefix, so the test's keys are its own
        await app.state.sign_in_throttle.store.close()
        app.state.sign_in_throttle = auth.SignInThrottle(clock, stores())
    wrong = {"input": {"username": "admin", "password": WRONG}}
    right = {"input": {"username": "admin", "password": PASSWORD}}
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        for app in apps
    ]
    try:
        for n in range(10):
            response = await clients[n % 2].post(
                "/graphql", json={"query": MUTATION, "variables": wrong}
            )
            assert response.json()["data"]["tokenCreate"]["userErrors"] == [
                {"code": "INVALID_CREDENTIALS"}
            ]
        refused = [
            await client.post("/graphql", json={"query": MUTATION, "variables": right})
            for client in clients
        ]
    finally:
        for client in clients:
            await client.aclose()
    for response in refused:
        assert (response.status_code, response.headers["retry-after"]) == (429, "90")
        assert response.json() == {
            "data": {
                "tokenCreate": {"token": None, "userErrors": [{"code": "RATE_LIMITED"}]}
            }
        }
    assert await models.AccessToken.all().count() == 0


async def test_two_servers_sharing_redis_share_the_submission_allowance(
    cast: Cast, ketapang: str, clock: FixedClock, stores: Callable[[], RedisStore]
) -> None:
    settings = Settings(database_url=ketapang, redis_url=redis_url())
    apps = [create_app(settings, clock=clock) for _ in range(2)]
    for app in apps:  # the fixture's prefix, so the test's keys are its own
        await app.state.sign_in_throttle.store.close()
        app.state.aspiration_submissions = submission_limiter(clock, stores())
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        for app in apps
    ]
    variables = {
        "input": {
            "region": HOME_DESA,
            "title": "Jalan berlubang",
            "description": "Jalan desa berlubang di depan sekolah.",
            "category": "INFRASTRUCTURE",
        }
    }
    query = (
        "mutation ($input: AspirationSubmitInput!) {"
        " aspirationSubmit(input: $input) { ticket userErrors { code } } }"
    )
    try:
        statuses = [
            (
                await clients[n % 2].post(
                    "/graphql", json={"query": query, "variables": variables}
                )
            ).status_code
            for n in range(6)
        ]
    finally:
        for client in clients:
            await client.aclose()
    assert statuses == [200] * 5 + [429]
