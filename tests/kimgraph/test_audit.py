"""The audit trail below the API: same transaction, no secrets, the CLI's rows, CSV."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.transactions import in_transaction

from kimgraph import audit, db, models
from kimgraph.accounts.principals import Principal, Role
from kimgraph.audit.cli import HEADER
from kimgraph.cursors import encode_id
from kimgraph.events import log
from tests.kimgraph.test_cli import kimgraph
from tests.people import ROOT, nobody_listens

T = TypeVar("T")
START = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
EDITOR = Principal(
    role=Role.OFFICER, region_code="61.04.16", account_id=7, username="camat"
)
SECRET_KEY = "kgk_" + "x" * 43


class Boom(Exception):
    """Raised after the audit row, to roll its transaction back."""


async def _in_transaction() -> None:
    async with in_transaction() as conn:
        await audit.record(
            conn,
            EDITOR,
            audit.AuditAction.KIM_UPDATE,
            audit.target("Kim", 1),
            {"changed": ["name"]},
            at=START,
        )
        raise Boom


async def _in_log_transaction() -> None:
    async with log.transaction(nobody_listens) as tx:
        await audit.record(
            tx.conn,
            EDITOR,
            audit.AuditAction.ANNOUNCEMENT_WITHDRAW,
            audit.target("Announcement", 1),
            {"reason": "Batal"},
            at=START,
        )
        raise Boom


@pytest.mark.parametrize("change", [_in_transaction, _in_log_transaction])
async def test_a_rolled_back_change_leaves_no_audit_row(
    db: str, change: Callable[[], Awaitable[None]]
) -> None:
    # when: the row is written inside the change's transaction, which then fails
    with pytest.raises(Boom):
        await change()
    # then
    assert await models.AuditEntry.all().count() == 0


@pytest.mark.parametrize(
    "name", ["password", "newPassword", "token", "apiKey", "reporterName", "contact"]
)
async def test_a_summary_naming_a_secret_or_reporter_data_is_refused(
    db: str, name: str
) -> None:
    # when
    with pytest.raises(ValueError, match=f"an audit summary may not hold '{name}'"):
        await audit.record(
            None,
            EDITOR,
            audit.AuditAction.ACCOUNT_CREATE,
            audit.target("Account", 1),
            {name: "x"},
            at=START,
        )
    # then
    assert await models.AuditEntry.all().count() == 0


def _run(database_url: str, work: Callable[[], Awaitable[T]]) -> T:
    async def connected() -> T:
        EXECUTOR_CACHE.clear()
        await db.init(database_url)
        try:
            return await work()
        finally:
            await db.close()

    return asyncio.run(connected())


async def _rows() -> list[tuple[object, ...]]:
    return [
        (r.actor_kind, r.actor_id, r.actor, r.role, r.action, r.target_id, r.summary)
        for r in await models.AuditEntry.all().order_by("id")
    ]


def test_the_command_line_records_its_changes_as_system(
    database_url: str, tmp_path: Path
) -> None:
    # when: an account and an API key made, the key revoked, each at the CLI
    created = kimgraph(
        "accounts",
        "create",
        "--username",
        "camat",
        "--role",
        "OFFICER",
        "--region",
        "61.04.16",
        "--password",
        "kata-sandi-panjang",
        database_url=database_url,
        cwd=tmp_path,
    )
    key = kimgraph(
        "apikeys",
        "create",
        "--name",
        "Mitra",
        "--region",
        "61.04",
        database_url=database_url,
        cwd=tmp_path,
    )
    revoked = kimgraph(
        "apikeys", "revoke", "1", database_url=database_url, cwd=tmp_path
    )
    # then
    assert [created.returncode, key.returncode, revoked.returncode] == [0, 0, 0]
    rows = _run(database_url, _rows)
    assert rows == [
        (
            "system",
            None,
            "system",
            None,
            "account.create",
            encode_id("Account", 1),
            '{"region": "61.04.16", "role": "OFFICER", "username": "camat"}',
        ),
        (
            "system",
            None,
            "system",
            None,
            "api_key.create",
            encode_id("ApiKey", 1),
            '{"name": "Mitra", "region": "61.04"}',
        ),
        (
            "system",
            None,
            "system",
            None,
            "api_key.revoke",
            encode_id("ApiKey", 1),
            '{"name": "Mitra"}',
        ),
    ]
    secret = key.stdout.splitlines()[1]
    assert secret.startswith("kgk_")
    assert secret[:10] not in repr(rows)
    assert "kata-sandi-panjang" not in repr(rows)


async def _three_rows() -> None:
    for hour, (who, action, target) in enumerate(
        [
            (EDITOR, audit.AuditAction.KIM_UPDATE, ("Kim", 1)),
            (None, audit.AuditAction.API_KEY_CREATE, ("ApiKey", 2)),
            (ROOT, audit.AuditAction.KIM_UPDATE, ("Kim", 3)),
        ]
    ):
        await audit.record(
            None,
            who,
            action,
            audit.target(*target),
            {"name": 'KIM, "Maju"', "hour": hour},
            at=START + timedelta(hours=hour),
        )


def _line(
    number: int, hour: int, actor: tuple[str, str, str, str], action: str, target: str
) -> list[str]:
    return [
        str(number),
        (START + timedelta(hours=hour)).isoformat(),
        *actor,
        action,
        target.split(":")[0],
        encode_id(*target.split(":")),
        f'{{"hour": {hour}, "name": "KIM, \\"Maju\\""}}',
    ]


def test_export_writes_the_exact_csv(database_url: str, tmp_path: Path) -> None:
    # given
    _run(database_url, _three_rows)
    out = tmp_path / "audit.csv"
    # when: all to a file; KIM updates from 02:00 UTC to stdout
    whole = kimgraph(
        "audit", "export", str(out), database_url=database_url, cwd=tmp_path
    )
    some = kimgraph(
        "audit",
        "export",
        "--action",
        "kim.update",
        "--from",
        "2026-11-28T09:00:00+07:00",
        "--to",
        "2026-11-28T04:00:00Z",
        "-",
        database_url=database_url,
        cwd=tmp_path,
    )
    # then
    officer = ("account", encode_id("Account", 7), "camat", "OFFICER")
    system = ("system", "", "system", "")
    lines = [
        list(HEADER),
        _line(1, 0, officer, "kim.update", "Kim:1"),
        _line(2, 1, system, "api_key.create", "ApiKey:2"),
        _line(3, 2, ("system", "", "system", "ADMIN"), "kim.update", "Kim:3"),
    ]
    assert (whole.returncode, whole.stderr) == (0, f"wrote 3 audit entries to {out}\n")
    with out.open(newline="", encoding="utf-8") as file:
        assert list(csv.reader(file)) == lines
    assert (some.returncode, some.stderr) == (0, "")
    assert list(csv.reader(io.StringIO(some.stdout))) == [lines[0], lines[3]]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        (
            "--action",
            "announcement.delete",
            "kimgraph: --action: unknown action 'announcement.delete'; the actions "
            "are " + ", ".join(a.value for a in audit.AuditAction),
        ),
        (
            "--from",
            "2026-11-28",
            "kimgraph: --from '2026-11-28': an ISO 8601 instant with its offset, "
            "e.g. 2026-11-01T00:00:00+07:00 (needs a UTC offset, e.g. "
            "2030-01-01T08:00:00+07:00 (WIB))",
        ),
    ],
)
def test_export_refuses_a_bad_option_in_one_line_and_writes_nothing(
    database_url: str, tmp_path: Path, option: str, value: str, message: str
) -> None:
    # when
    out = tmp_path / "audit.csv"
    result = kimgraph(
        "audit",
        "export",
        option,
        value,
        str(out),
        database_url=database_url,
        cwd=tmp_path,
    )
    # then
    assert (result.returncode, result.stdout, result.stderr) == (2, "", message + "\n")
    assert not out.exists()
