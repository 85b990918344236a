"""The secret at start-up, `kimgraph pii rotate-key`, backups keeping ciphertext."""

from __future__ import annotations

import socket
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kimgraph import db, models
from kimgraph.demo import DEMO_KEY_NAME
from kimgraph.pii import keys
from kimgraph.pii.fields import WEBHOOK_SECRET, SealedSecret
from tests.cli_in_process import run_cli

OLD = "pii-old-secret-0123456789abcdefghijklmnopq"
NEW = "pii-new-secret-0123456789abcdefghijklmnopq"
DEMO_REPORTER = "Warga Fiktif (DEMO)"  # kimgraph/demo.py


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _stored(file: Path) -> list[tuple[str | None, str | None]]:
    """The two columns as stored, read with sqlite3 (no ORM, no key)."""
    with sqlite3.connect(file) as conn:
        rows = conn.execute(
            "SELECT reporter_name, reporter_contact FROM aspiration ORDER BY id"
        ).fetchall()
    return [(name, contact) for name, contact in rows]


@pytest.fixture
def demo_file(tmp_path: Path) -> Path:
    """A SQLite database the demo filled with a secret: its reporters encrypted."""
    file = tmp_path / "kimgraph.db"
    loaded = run_cli(["demo"], cwd=tmp_path, env=_env(file, OLD))
    assert loaded.returncode == 0, loaded.stderr
    keys.install(None)
    return file


def _env(file: Path, secret: str | None, previous: str | None = None) -> dict[str, str]:
    env = {"KIMGRAPH_DATABASE_URL": f"sqlite://{file}"}
    if secret is not None:
        env["KIMGRAPH_SECRET_KEY"] = secret
    if previous is not None:
        env["KIMGRAPH_SECRET_KEY_PREVIOUS"] = previous
    return env


def _serve(file: Path, secret: str | None) -> tuple[int, str]:
    done = run_cli(
        ["serve", "--port", str(_free_port())],
        cwd=file.parent,
        env=_env(file, secret),
    )
    keys.install(None)
    return done.returncode, done.stderr


def test_serve_refuses_to_start_without_the_secret_or_with_another(
    demo_file: Path,
) -> None:
    # given: the demo's reporter is stored encrypted
    names = [name for name, _ in _stored(demo_file) if name is not None]
    assert names
    assert all(name.startswith(f"pii1:{keys.Key(OLD).id}:") for name in names)
    assert DEMO_REPORTER.encode() not in demo_file.read_bytes()
    # when / then: no secret
    assert _serve(demo_file, None) == (
        2,
        "kimgraph: KIMGRAPH_SECRET_KEY is unset but the database holds encrypted "
        "personal data or webhook secrets; set it to the secret they were written "
        "with (docs/privacy.md)\n",
    )
    # when / then: another secret
    assert _serve(demo_file, NEW) == (
        2,
        "kimgraph: KIMGRAPH_SECRET_KEY does not match the key personal data and "
        f"webhook secrets were encrypted with (key id {keys.Key(OLD).id}); set the "
        "secret they were written with, or the new one with the old one in "
        "KIMGRAPH_SECRET_KEY_PREVIOUS (docs/privacy.md)\n",
    )
    # and: nothing was changed by the refused starts
    assert [name for name, _ in _stored(demo_file) if name is not None] == names


def test_rotation_rewrites_every_row_under_the_new_key_once(demo_file: Path) -> None:
    # given: the demo's reporters and two webhooks, under the old key
    _add_webhooks(demo_file, OLD, PLAIN_SECRETS)
    before = _stored(demo_file)
    encrypted = sum(1 for name, _ in before if name is not None)
    old_ring = keys.Keyring(OLD)
    plain = [
        (
            old_ring.decrypt(name, "reporter_name") if name else None,
            old_ring.decrypt(contact, "reporter_contact") if contact else None,
        )
        for name, contact in before
    ]
    assert DEMO_REPORTER in {name for name, _ in plain}
    # when: without the old secret, rotation cannot read the rows
    refused = run_cli(
        ["pii", "rotate-key"], cwd=demo_file.parent, env=_env(demo_file, NEW)
    )
    assert (refused.returncode, refused.stdout) == (2, "")
    assert f"(key id {old_ring.current.id})" in refused.stderr
    # when: with it
    rotated = run_cli(
        ["pii", "rotate-key"], cwd=demo_file.parent, env=_env(demo_file, NEW, OLD)
    )
    # then: one run rewrote both kinds
    new_id = keys.Key(NEW).id
    assert (rotated.returncode, rotated.stdout, rotated.stderr) == (
        0,
        f"{encrypted} aspirations and 2 webhook secrets written under key {new_id}\n",
        "",
    )
    after = _stored(demo_file)
    new_ring = keys.Keyring(NEW)
    assert [
        (
            new_ring.decrypt(name, "reporter_name") if name else None,
            new_ring.decrypt(contact, "reporter_contact") if contact else None,
        )
        for name, contact in after
    ] == plain
    assert all(
        value is None or value.startswith(f"pii1:{new_id}:")
        for row in [*after, _stored_secrets(demo_file)]
        for value in row
    )
    secrets = [new_ring.decrypt(s, WEBHOOK_SECRET) for s in _stored_secrets(demo_file)]
    assert secrets == PLAIN_SECRETS
    # and: run again (after an interruption, say), it has nothing left to do
    again = run_cli(
        ["pii", "rotate-key"], cwd=demo_file.parent, env=_env(demo_file, NEW, OLD)
    )
    assert again.stdout == (
        f"0 aspirations and 0 webhook secrets written under key {new_id}\n"
    )
    assert _stored(demo_file) == after
    # and: the old secret alone no longer starts the server
    status, message = _serve(demo_file, OLD)
    assert status == 2
    assert f"(key id {new_id})" in message


def test_a_backup_keeps_ciphertext_and_restores_to_the_same_values(
    demo_file: Path, tmp_path: Path
) -> None:
    # given
    backup = tmp_path / "backup.db"
    restored = tmp_path / "restored" / "kimgraph.db"
    restored.parent.mkdir()
    # when
    made = run_cli(["backup", str(backup)], cwd=tmp_path, env=_env(demo_file, OLD))
    back = run_cli(["restore", str(backup)], cwd=tmp_path, env=_env(restored, OLD))
    # then
    assert (made.returncode, back.returncode) == (0, 0), made.stderr + back.stderr
    assert DEMO_REPORTER.encode() not in backup.read_bytes()
    assert _stored(restored) == _stored(demo_file)
    ring = keys.Keyring(OLD)
    names = {
        ring.decrypt(name, "reporter_name")
        for name, _ in _stored(restored)
        if name is not None
    }
    assert DEMO_REPORTER in names


def _add_webhooks(file: Path, secret: str, plain: list[str]) -> None:
    """Webhooks for the demo's partner key, their secrets encrypted with secret."""

    async def add() -> None:
        await db.init(f"sqlite://{file}")
        key = await models.ApiKey.get(name=DEMO_KEY_NAME)
        now = datetime.now(UTC)
        for n, text in enumerate(plain):
            await models.WebhookEndpoint.create(
                api_key_id=key.id,
                url=f"https://93.184.215.14/hook/{n}",
                secret=SealedSecret.of(text),
                status=models.WebhookStatus.ACTIVE,
                position=0,
                created_at=now,
                lease_until=now,
            )

    keys.install(keys.Keyring(secret))
    try:
        db.run_closing(add())
    finally:
        keys.install(None)


def _stored_secrets(file: Path) -> list[str]:
    with sqlite3.connect(file) as conn:
        rows = conn.execute("SELECT secret FROM webhook_endpoint ORDER BY id")
        return [secret for (secret,) in rows.fetchall()]


PLAIN_SECRETS = ["whsec_satu-0123456789abcdefghijklmnopqrstuvwxy", "whsec_dua"]


def test_a_webhook_secret_failing_its_check_stops_the_rotation_of_every_secret(
    demo_file: Path,
) -> None:
    # given: two webhooks, the second holding a reporter's name (copied there)
    _add_webhooks(demo_file, OLD, PLAIN_SECRETS)
    name = next(name for name, _ in _stored(demo_file) if name is not None)
    with sqlite3.connect(demo_file) as conn:
        conn.execute("UPDATE webhook_endpoint SET secret = ? WHERE id = 2", [name])
    before = _stored_secrets(demo_file)
    # when
    rotated = run_cli(
        ["pii", "rotate-key"], cwd=demo_file.parent, env=_env(demo_file, NEW, OLD)
    )
    # then: refused in one line, and no secret was rewritten (all or none)
    assert (rotated.returncode, rotated.stdout, rotated.stderr) == (
        2,
        "",
        f"kimgraph: the webhook_endpoint.secret written with key {keys.Key(OLD).id} "
        "fails its integrity check\n",
    )
    assert _stored_secrets(demo_file) == before
