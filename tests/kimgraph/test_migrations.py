"""The committed migrations describe the models exactly."""

from __future__ import annotations

from tortoise import Tortoise
from tortoise.migrations.autodetector import MigrationAutodetector

from kimgraph.db import tortoise_config


async def test_no_model_change_lacks_a_migration(db: str) -> None:
    # given: a database built by the committed migrations alone
    apps = tortoise_config(db)["apps"]
    assert Tortoise.apps is not None
    # when
    pending = await MigrationAutodetector(Tortoise.apps, apps).changes()
    # then
    assert [(w.app_label, w.name) for w in pending] == [], (
        "run `tortoise -c kimgraph.db.TORTOISE_ORM makemigrations` and commit it"
    )
