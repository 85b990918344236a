"""0017_webhook_secrets: a secret stored before it survives, then is encrypted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.migrations.api import migrate as run_migrations

from kimgraph import db, models
from kimgraph.accounts import api_keys
from kimgraph.clock import FixedClock
from kimgraph.pii import keys, store
from kimgraph.regions import importer as region_import
from kimgraph.settings import Settings
from tests.conftest import BACKENDS
from tests.kimgraph.test_webhook_secrets import (
    SECRET,
    stored_secrets,
    the_sealed_secret,
)
from tests.services import database

BEFORE = "models.0016_deadlines"
PLAIN = "whsec_" + "s" * 43  # as long as signing.new_secret() makes them


@pytest.fixture(params=BACKENDS)
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema yet, on each backend."""
    EXECUTOR_CACHE.clear()  # see tests.conftest.db
    with database(str(request.param), tmp_path) as url:
        yield url
    keys.install(None)


async def test_a_secret_from_before_0017_is_kept_then_encrypted_at_the_next_start(
    empty: str, clock: FixedClock
) -> None:
    # given: a database at 0016 holding a webhook (its secret in VARCHAR(100))
    await run_migrations(config=db.tortoise_config(empty), target=BEFORE)
    await Tortoise.close_connections()
    await db.init(empty)
    try:
        await region_import.load_bundled_seed()
        _, key = await api_keys.create_api_key(clock, "Mitra Lama", "61.04")
        await models.WebhookEndpoint.create(
            api_key_id=key.id,
            url="https://93.184.215.14/hook",
            secret=PLAIN,
            status=models.WebhookStatus.ACTIVE,
            position=0,
            created_at=clock.now(),
            lease_until=clock.now(),
        )
    finally:
        await db.close()
    # when: upgraded, then started with a secret
    await db.migrate(empty)
    await db.init(empty)
    try:
        assert await stored_secrets() == [PLAIN]
        await store.prepare(Settings(database_url=empty, secret_key=SECRET))
        # then: encrypted (longer than the old column allowed), the same secret
        assert len(await the_sealed_secret(SECRET)) > 100
        endpoint = await models.WebhookEndpoint.get()
        assert endpoint.secret.reveal() == PLAIN
    finally:
        await db.close()
