"""Reporter names and contacts at rest: never in clear in the file or a dump."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from kimgraph import models
from kimgraph.app import create_app
from kimgraph.clock import FixedClock
from kimgraph.cursors import encode_id
from kimgraph.pii import keys, store
from kimgraph.setting_values import SettingsError
from kimgraph.settings import Settings
from tests.conftest import execute
from tests.people import HOME_DESA, REPORTER_CONTACT, Cast, make_cast

SECRET = "pii-test-secret-0123456789abcdefghijklmnop"
REPORTER = "Budi Santoso"  # tests.people's reporter
SUBMITTED_NAME = "Siti Rahma Wulandari"
SUBMITTED_CONTACT = "siti.rahma@example.id"
SUBMIT = """
mutation ($input: AspirationSubmitInput!) {
  aspirationSubmit(input: $input) { ticket aspiration { id } userErrors { message } }
}
"""
READ = "query ($id: ID!) { aspiration(id: $id) { reporterName reporterContact } }"


async def _client(
    url: str, clock: FixedClock, secret: str | None
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=url, secret_key=secret), clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest_asyncio.fixture
async def sealed(
    ketapang: str, clock: FixedClock
) -> AsyncIterator[tuple[httpx.AsyncClient, Cast]]:
    """An app with a secret, and the test cast written through it."""
    async for client in _client(ketapang, clock, SECRET):
        yield client, await make_cast(clock)


@pytest_asyncio.fixture
async def unsealed(
    ketapang: str, clock: FixedClock
) -> AsyncIterator[tuple[httpx.AsyncClient, Cast]]:
    """The same without a secret: what the warning at start-up is about."""
    async for client in _client(ketapang, clock, None):
        yield client, await make_cast(clock)


async def _submit(client: httpx.AsyncClient, cast: Cast) -> str:
    body = await execute(
        client,
        SUBMIT,
        {
            "input": {
                "region": HOME_DESA,
                "title": "Lampu jalan padam",
                "description": "Lampu jalan di RT 02 padam sejak seminggu.",
                "category": "INFRASTRUCTURE",
                "reporterName": SUBMITTED_NAME,
                "reporterContact": SUBMITTED_CONTACT,
            }
        },
        cast.headers["kim_home"],
    )
    payload = body["data"]["aspirationSubmit"]
    assert payload["userErrors"] == []
    return str(payload["aspiration"]["id"])


async def stored_bytes(url: str) -> bytes:
    """What a copy of the database shows: its files, or a real pg_dump."""
    return await asyncio.to_thread(_read_stored, url)


def _read_stored(url: str) -> bytes:
    """The SQLite file (and its write-ahead log), or a real pg_dump of the database."""
    if url.startswith("sqlite://"):
        file = Path(url.removeprefix("sqlite://"))
        wal = file.with_name(file.name + "-wal")
        return file.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    dump = subprocess.run(
        ["pg_dump", "--no-owner", f"--dbname={url}"],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return dump.stdout


PERSONAL = (REPORTER, REPORTER_CONTACT, SUBMITTED_NAME, SUBMITTED_CONTACT)


async def test_the_database_file_and_a_dump_hold_no_name_or_contact_in_clear(
    ketapang: str, sealed: tuple[httpx.AsyncClient, Cast]
) -> None:
    # given: the cast's aspiration and one submitted through the API
    client, cast = sealed
    aspiration_id = await _submit(client, cast)
    # when
    stored = await stored_bytes(ketapang)
    # then: the rows are there, their personal data is not
    ticket = (await models.Aspiration.get(id=cast.home_aspiration.id)).ticket
    assert ticket.encode() in stored
    assert stored.count(keys.MARK.encode()) >= 4
    assert [value for value in PERSONAL if value.encode() in stored] == []
    # and: those allowed read them exactly (the reporter's KIM)
    for row_id, expected in [
        (
            encode_id("Aspiration", str(cast.home_aspiration.id)),
            {"reporterName": REPORTER, "reporterContact": REPORTER_CONTACT},
        ),
        (
            aspiration_id,
            {"reporterName": SUBMITTED_NAME, "reporterContact": SUBMITTED_CONTACT},
        ),
    ]:
        read = await execute(client, READ, {"id": row_id}, cast.headers["kim_home"])
        assert read == {"data": {"aspiration": expected}}


async def test_without_a_secret_the_same_check_finds_them_in_clear(
    ketapang: str, unsealed: tuple[httpx.AsyncClient, Cast]
) -> None:
    # given: no KIMGRAPH_SECRET_KEY (serve warns: docs/privacy.md)
    client, cast = unsealed
    await _submit(client, cast)
    # when
    stored = await stored_bytes(ketapang)
    # then: the check above is one that can fail
    assert [value for value in PERSONAL if value.encode() in stored] == list(PERSONAL)


async def test_rows_stored_in_clear_are_encrypted_when_a_secret_is_set(
    ketapang: str, unsealed: tuple[httpx.AsyncClient, Cast]
) -> None:
    # given: rows written without a secret (or before this version)
    client, cast = unsealed
    aspiration_id = await _submit(client, cast)
    # when: the next start has one
    await store.prepare(Settings(database_url=ketapang, secret_key=SECRET))
    # then
    stored = await stored_bytes(ketapang)
    assert [value for value in PERSONAL if value.encode() in stored] == []
    assert await store.stored_key_ids() == {keys.Keyring(SECRET).current.id}
    read = await execute(client, READ, {"id": aspiration_id}, cast.headers["kim_home"])
    assert read["data"]["aspiration"] == {
        "reporterName": SUBMITTED_NAME,
        "reporterContact": SUBMITTED_CONTACT,
    }
    # and: a second start finds nothing left to do
    assert await store.reencrypt(keys.Keyring(SECRET), only_clear=True) == {
        "aspirations": 0,
        "webhook secrets": 0,
    }


def test_a_value_sealed_for_one_column_does_not_open_as_another() -> None:
    # given
    ring = keys.Keyring(SECRET)
    name = ring.encrypt(REPORTER, "reporter_name")
    # then: the name decrypts as a name only, and its text is nowhere in it
    assert ring.decrypt(name, "reporter_name") == REPORTER
    assert REPORTER not in name
    with pytest.raises(keys.PersonalDataKeyError) as refused:
        ring.decrypt(name, "reporter_contact")
    assert str(refused.value) == (
        f"the reporter_contact written with key {ring.current.id} fails its "
        "integrity check"
    )
    # and: two writes of one value differ (a fresh nonce each)
    assert ring.encrypt(REPORTER, "reporter_name") != name


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"KIMGRAPH_SECRET_KEY": "rahasia"})
    assert str(refused.value) == (
        "KIMGRAPH_SECRET_KEY must be at least 32 characters, got 7; make one with "
        "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
    )


async def test_an_app_started_with_another_secret_fails_its_start(
    ketapang: str, clock: FixedClock, sealed: tuple[httpx.AsyncClient, Cast]
) -> None:
    # given: rows encrypted with SECRET (the `sealed` cast)
    other = "pii-other-secret-0123456789abcdefghijklmn"
    app = create_app(
        Settings(database_url=ketapang, secret_key=other),
        clock=clock,
        manage_database=False,
    )
    # when
    with pytest.raises(keys.PersonalDataKeyError) as refused:
        async with app.router.lifespan_context(app):
            pass
    # then
    assert str(refused.value) == keys.unknown_key_message(keys.Key(SECRET).id)
