"""A transaction cancelled at any await gives back its lock or connection (kimgraph.db).

Tortoise 1.1.9 left the SQLite lock taken, or a PostgreSQL connection out of its
pool, when a task was cancelled while its transaction began: every later query
of the process then waited for ever (CI hung at 98 %; docs/testing.md).
"""

from __future__ import annotations

import asyncio
import contextlib

from tortoise.transactions import in_transaction

from kimgraph import db, models

# Each attempt is cancelled after one more loop step than the one before, until
# one commits: together they are cancelled at every await of entering, writing
# and committing a transaction. A wedged database commits none.
MOST_STEPS = 5_000
DEADLINE_S = 30.0
# Tortoise's PostgreSQL pool (asyncpg, its default size).
POOL = 5


async def write(name: str) -> None:
    async with in_transaction() as connection:
        await models.Region.filter(code="61.04").using_db(connection).update(name=name)


async def test_a_transaction_cancelled_at_any_step_leaves_the_database_usable(
    ketapang: str,
) -> None:
    # given: the kabupaten's name as imported
    before = (await models.Region.get(code="61.04")).name
    # when: a transaction cancelled after 0, 1, 2, ... loop steps, each in turn,
    # until one is done before its cancellation comes
    cancelled = 0
    for steps in range(MOST_STEPS):
        task = asyncio.create_task(write(f"Ketapang {steps}"))
        for _ in range(steps):
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if not task.cancelled():
            break
        cancelled += 1
    # then: the first ones were cancelled, and one committed after them
    assert cancelled > 1
    assert not task.cancelled(), f"none of {MOST_STEPS} transactions committed"
    # and: the next transaction and the next plain query run at once
    async with asyncio.timeout(DEADLINE_S):
        await write("Ketapang")
        region = await models.Region.get(code="61.04")
    assert region.name == "Ketapang"
    assert before != "Ketapang"
    # and: on PostgreSQL every pooled connection came back: five transactions
    # can be open at once
    if db.dialect() == "postgres":
        async with asyncio.timeout(DEADLINE_S):
            await all_open_at_once(POOL)


async def all_open_at_once(count: int) -> None:
    inside = 0
    everyone = asyncio.Event()

    async def hold() -> None:
        nonlocal inside
        async with in_transaction():
            inside += 1
            if inside == count:
                everyone.set()
            await everyone.wait()

    await asyncio.gather(*(hold() for _ in range(count)))
