"""Automatic persisted queries (kimgraph/persisted.py, docs/http.md).

Apollo's protocol: a hash alone first, PERSISTED_QUERY_NOT_FOUND, the document
with its hash once, then the hash alone, by POST or GET. A hash that does not
match its document is refused and stores nothing; the store stays within its
byte bound, in this process and in Redis.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import redis.asyncio
from starlette.applications import Starlette

from kimgraph.app import create_app
from kimgraph.clock import FixedClock
from kimgraph.persisted import (
    DEFAULT_PREFIX,
    ENTRY_OVERHEAD,
    MemoryQueryStore,
    RedisQueryStore,
    entry_bytes,
)
from kimgraph.settings import Settings
from tests.services import redis_url

# Every key the shared store writes under its prefix.
REDIS_KEYS = ("texts", "recency", "bytes", "bytes:seq")

QUERY = 'query Kecamatan { region(code: "61.04.16") { code name } }'
ANSWER = {"data": {"region": {"code": "61.04.16", "name": "Delta Pawan"}}}
NOT_FOUND = {
    "data": None,
    "errors": [
        {
            "message": "PersistedQueryNotFound",
            "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
        }
    ],
}
MISMATCH = {
    "data": None,
    "errors": [
        {
            "message": "provided sha does not match query",
            "extensions": {"code": "PERSISTED_QUERY_HASH_MISMATCH"},
        }
    ],
}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(sha: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha}}


async def hash_only(client: httpx.AsyncClient, sha: str) -> httpx.Response:
    return await client.post("/graphql", json={"extensions": persisted(sha)})


async def with_document(
    client: httpx.AsyncClient, query: str, sha: str
) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": query, "extensions": persisted(sha)}
    )


async def by_get(client: httpx.AsyncClient, sha: str) -> httpx.Response:
    # As Apollo Client's useGETForHashedQueries sends it, Accept */* included.
    params = {"extensions": json.dumps(persisted(sha))}
    return await client.get("/graphql", params=params, headers={"accept": "*/*"})


@pytest.mark.usefixtures("no_errors_logged")
async def test_a_hash_is_learnt_once_then_runs_alone_by_post_and_get(
    client: httpx.AsyncClient,
) -> None:
    sha = sha256(QUERY)
    first = await hash_only(client, sha)
    assert (first.status_code, first.json()) == (200, NOT_FOUND)
    by_get_unknown = await by_get(client, sha)
    assert (by_get_unknown.status_code, by_get_unknown.json()) == (200, NOT_FOUND)

    retry = await with_document(client, QUERY, sha)
    assert (retry.status_code, retry.json()) == (200, ANSWER)

    later = await hash_only(client, sha)
    assert (later.status_code, later.json()) == (200, ANSWER)
    got = await by_get(client, sha)
    assert (got.status_code, got.json()) == (200, ANSWER)
    assert got.headers["content-type"] == "application/json"
    # Upper-case hex names the same document.
    upper = await hash_only(client, sha.upper())
    assert upper.json() == ANSWER


@pytest.mark.usefixtures("no_errors_logged")
async def test_a_hash_that_does_not_match_its_document_is_refused_and_stores_nothing(
    client: httpx.AsyncClient,
) -> None:
    claimed = sha256("{ __typename }")
    refused = await with_document(client, QUERY, claimed)
    assert (refused.status_code, refused.json()) == (200, MISMATCH)
    for sha in (claimed, sha256(QUERY)):
        after = await hash_only(client, sha)
        assert after.json() == NOT_FOUND


@pytest.mark.usefixtures("no_errors_logged")
async def test_a_document_that_does_not_validate_is_not_stored(
    client: httpx.AsyncClient,
) -> None:
    invalid = '{ region(code: "61.04") { noSuchField } }'
    sha = sha256(invalid)
    answer = await with_document(client, invalid, sha)
    assert answer.json()["errors"][0]["extensions"]["code"] == (
        "GRAPHQL_VALIDATION_FAILED"
    )
    assert (await hash_only(client, sha)).json() == NOT_FOUND


@pytest.mark.parametrize(
    ("extension", "message"),
    [
        (
            {"version": 2, "sha256Hash": "0" * 64},
            'Unsupported persisted query version: send {"version": 1, '
            '"sha256Hash": "<hex>"}',
        ),
        (
            {"version": 1, "sha256Hash": "xyz"},
            "persistedQuery.sha256Hash must be 64 hexadecimal digits",
        ),
        ("yes", 'Unsupported persisted query version: send {"version": 1, '
         '"sha256Hash": "<hex>"}'),
    ],
)  # fmt: skip
@pytest.mark.usefixtures("no_errors_logged")
async def test_a_malformed_persisted_query_extension_is_refused(
    client: httpx.AsyncClient, extension: object, message: str
) -> None:
    answer = await client.post(
        "/graphql", json={"extensions": {"persistedQuery": extension}}
    )
    assert (answer.status_code, answer.json()) == (
        200,
        {
            "data": None,
            "errors": [
                {"message": message, "extensions": {"code": "PERSISTED_QUERY_INVALID"}}
            ],
        },
    )


@pytest.mark.usefixtures("no_errors_logged")
async def test_persisted_query_errors_keep_200_under_graphql_response_json(
    client: httpx.AsyncClient,
) -> None:
    # Apollo's link reads them from the body; it retries on them, not on a 400.
    answer = await client.post(
        "/graphql",
        json={"extensions": persisted(sha256(QUERY))},
        headers={"accept": "application/graphql-response+json"},
    )
    assert (answer.status_code, answer.json()) == (200, NOT_FOUND)


@pytest.mark.usefixtures("no_errors_logged")
async def test_a_stored_mutation_never_runs_by_get(client: httpx.AsyncClient) -> None:
    mutation = "mutation { tokenRevoke { revoked } }"
    sha = sha256(mutation)
    stored = await with_document(client, mutation, sha)
    assert stored.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    got = await by_get(client, sha)
    assert (got.status_code, got.json()) == (
        400,
        {
            "data": None,
            "errors": [
                {
                    "message": "mutations are not allowed when using GET",
                    "extensions": {"code": "BAD_REQUEST"},
                }
            ],
        },
    )


async def test_a_get_with_no_query_and_no_extensions_still_shows_graphiql(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")


def documents(count: int, size: int) -> list[str]:
    """`count` distinct documents of `size` bytes each."""
    return [f"{{ __typename }} # {i:08d} ".ljust(size, "x") for i in range(count)]


async def test_the_memory_store_stays_within_its_byte_bound() -> None:
    store = MemoryQueryStore(max_total_bytes=10_000, max_document_bytes=2_000)
    texts = documents(200, 1_000)
    for text in texts:
        await store.put(sha256(text), text)
        assert store.total_bytes <= 10_000
    # 1,200 bytes an entry: the 8 most recent fit, the rest were dropped.
    assert len(store) == 8
    assert store.total_bytes == 8 * (1_000 + ENTRY_OVERHEAD)
    assert await store.get(sha256(texts[0])) is None
    assert await store.get(sha256(texts[-1])) == texts[-1]
    # A document over the per-document limit is not kept.
    big = "{ __typename } #".ljust(2_000, "x")
    await store.put(sha256(big), big)
    assert await store.get(sha256(big)) is None
    assert len(store) == 8


async def test_the_memory_store_drops_the_least_recently_used() -> None:
    store = MemoryQueryStore(max_total_bytes=3 * entry_bytes("x" * 100))
    a, b, c, d = documents(4, 100)
    for text in (a, b, c):
        await store.put(sha256(text), text)
    assert await store.get(sha256(a)) == a  # a is now the most recent
    await store.put(sha256(d), d)
    assert await store.get(sha256(b)) is None
    assert [await store.get(sha256(t)) for t in (a, c, d)] == [a, c, d]


@pytest.fixture
async def redis_stores() -> AsyncIterator[Callable[..., RedisQueryStore]]:
    """Stores on the test Redis under one fresh prefix (two = two processes)."""
    url = redis_url()
    prefix = f"kimgraph-test:{uuid.uuid4().hex}:"
    made: list[RedisQueryStore] = []

    def make(**options: Any) -> RedisQueryStore:
        made.append(RedisQueryStore(url, prefix=prefix, **options))
        return made[-1]

    yield make
    for store in made:
        await store.close()
    async with redis.asyncio.Redis.from_url(url) as client:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)


async def test_the_redis_store_is_shared_and_stays_within_its_byte_bound(
    redis_stores: Callable[..., RedisQueryStore],
) -> None:
    one = redis_stores(max_total_bytes=10_000, max_document_bytes=2_000)
    other = redis_stores(max_total_bytes=10_000, max_document_bytes=2_000)
    texts = documents(200, 1_000)
    for text in texts:
        await one.put(sha256(text), text)
        assert await one.total_bytes() <= 10_000
    assert await one.total_bytes() == 8 * (1_000 + ENTRY_OVERHEAD)
    assert await other.get(sha256(texts[0])) is None
    assert await other.get(sha256(texts[-1])) == texts[-1]
    # Least recently used goes first, whichever process used it.
    assert await other.get(sha256(texts[-8])) == texts[-8]
    extra = documents(201, 1_000)[-1]
    await one.put(sha256(extra), extra)
    assert await other.get(sha256(texts[-8])) == texts[-8]
    assert await other.get(sha256(texts[-7])) is None
    big = "{ __typename } #".ljust(2_000, "x")
    await one.put(sha256(big), big)
    assert await other.get(sha256(big)) is None
    assert await one.total_bytes() == 8 * (1_000 + ENTRY_OVERHEAD)
    # A second put of a known hash counts nothing twice.
    await other.put(sha256(extra), extra)
    assert await one.total_bytes() == 8 * (1_000 + ENTRY_OVERHEAD)


async def test_with_redis_a_hash_learnt_by_one_process_runs_in_another(
    ketapang: str, clock: FixedClock
) -> None:
    url = redis_url()
    settings = Settings(database_url=ketapang, redis_url=url)
    query = f"{QUERY} # {uuid.uuid4().hex}"  # a hash no earlier run stored
    sha = sha256(query)
    try:
        async with (
            served(create_app(settings, clock, manage_database=False)) as one,
            served(create_app(settings, clock, manage_database=False)) as other,
        ):
            assert (await hash_only(other, sha)).json() == NOT_FOUND
            assert (await with_document(one, query, sha)).json() == ANSWER
            assert (await hash_only(other, sha)).json() == ANSWER
    finally:
        async with redis.asyncio.Redis.from_url(url) as client:
            await client.delete(*[f"{DEFAULT_PREFIX}{key}" for key in REDIS_KEYS])


@asynccontextmanager
async def served(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose lifespan runs (its stores opened and closed)."""
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield client


async def test_an_unreachable_redis_falls_back_to_this_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = RedisQueryStore("redis://127.0.0.1:1/0")
    try:
        await store.put(sha256(QUERY), QUERY)
        assert await store.get(sha256(QUERY)) == QUERY
    finally:
        await store.close()
    warnings = [
        r.getMessage() for r in caplog.records if r.name == "kimgraph.persisted"
    ]
    assert len(warnings) == 1
    assert warnings[0].startswith("persisted queries: Redis is unreachable")
