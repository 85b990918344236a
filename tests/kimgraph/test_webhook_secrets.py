"""Webhook signing secrets at rest: encrypted, opened only to sign (webhooks.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from tortoise import Tortoise
from tortoise.expressions import Q

from kimgraph import models
from kimgraph.app import create_app
from kimgraph.clock import FixedClock
from kimgraph.pii import fields, keys, store
from kimgraph.settings import Settings
from kimgraph.webhooks import signing
from tests.kimgraph.test_pii import stored_bytes
from tests.kimgraph.test_webhooks import (
    Receiver,
    receiving,
    register,
    submit,
    until,
    webhook_key,
)
from tests.people import Cast

SECRET = "webhook-secrets-key-0123456789abcdefghijkl"
NEW = "webhook-secrets-new-0123456789abcdefghijkl"
OTHER = "webhook-secrets-other-0123456789abcdefghij"


@asynccontextmanager
async def serving(
    url: str, clock: FixedClock, secret: str | None
) -> AsyncIterator[httpx.AsyncClient]:
    """An app with this KIMGRAPH_SECRET_KEY, its webhook dispatcher running."""
    settings = Settings(
        database_url=url,
        secret_key=secret,
        webhooks_allow_http=True,
        event_poll_seconds=0.05,
    )
    app = create_app(settings, clock=clock, manage_database=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


async def stored_secrets() -> list[str]:
    """webhook_endpoint.secret as stored, read past the ORM."""
    rows = await Tortoise.get_connection("default").execute_query_dict(
        "SELECT secret FROM webhook_endpoint ORDER BY id"
    )
    return [str(row["secret"]) for row in rows]


async def the_sealed_secret(secret: str) -> str:
    """The one webhook's secret as stored, checked to be under secret's key."""
    [column] = await stored_secrets()
    assert column.startswith(f"{keys.MARK}{keys.Key(secret).id}:")
    return column


def signed_with(receiver: Receiver, secret: str) -> list[bool]:
    """For each request the receiver got, whether its signature verifies."""
    verified = []
    for request in receiver.requests:
        header = request.headers[signing.HEADER]
        t = int(header.split(",")[0].removeprefix("t="))
        verified.append(signing.verify(secret, header, request.body, now=t))
    return verified


async def register_and_deliver(
    client: httpx.AsyncClient, cast: Cast, receiver: Receiver
) -> tuple[str, str]:
    """A webhook to the receiver and one event it acknowledged: (id, secret)."""
    webhook, secret = await register(client, cast, receiver.url)
    await submit(client, "Lampu jalan mati")
    await until(lambda: len(receiver.acknowledged()) == 1, "the first delivery")
    return webhook, secret


async def test_the_database_file_and_a_dump_hold_no_webhook_secret_in_clear(
    ketapang: str, cast: Cast, clock: FixedClock
) -> None:
    # given: a webhook registered with KIMGRAPH_SECRET_KEY set, and one delivery
    with receiving() as receiver:
        async with serving(ketapang, clock, SECRET) as client:
            _, secret = await register_and_deliver(client, cast, receiver)
    # when
    stored = await stored_bytes(ketapang)
    # then: the ciphertext is there, the secret is not
    assert (await the_sealed_secret(SECRET)).encode() in stored
    assert secret.encode() not in stored
    # and: the request was signed with the secret shown once
    assert secret.startswith(signing.SECRET_PREFIX)
    assert signed_with(receiver, secret) == [True]
    assert signed_with(receiver, signing.new_secret()) == [False]


async def test_a_secret_stored_in_clear_is_encrypted_at_the_next_start_and_still_signs(
    ketapang: str, cast: Cast, clock: FixedClock
) -> None:
    # given: a webhook registered without KIMGRAPH_SECRET_KEY (or before 0017)
    with receiving() as receiver:
        async with serving(ketapang, clock, None) as client:
            _, secret = await register(client, cast, receiver.url)
        assert await stored_secrets() == [secret]
        assert secret.encode() in await stored_bytes(ketapang)  # the check can fail
        # when: the next start has a secret (what `kimgraph serve` runs first)
        await store.prepare(Settings(database_url=ketapang, secret_key=SECRET))
        # then: stored encrypted, in clear nowhere
        await the_sealed_secret(SECRET)
        assert secret.encode() not in await stored_bytes(ketapang)
        # and: the partner's secret is unchanged, its deliveries verify
        async with serving(ketapang, clock, SECRET) as client:
            await submit(client, "Lampu jalan mati")
            await until(lambda: len(receiver.acknowledged()) == 1, "the delivery")
    assert signed_with(receiver, secret) == [True]


async def test_rotation_keeps_deliveries_verifiable_with_the_secret_shown_once(
    ketapang: str, cast: Cast, clock: FixedClock
) -> None:
    # given: a webhook under SECRET that has had one delivery
    with receiving() as receiver:
        async with serving(ketapang, clock, SECRET) as client:
            webhook, secret = await register_and_deliver(client, cast, receiver)
        sealed = await models.Aspiration.filter(
            Q(reporter_name__isnull=False) | Q(reporter_contact__isnull=False)
        ).count()
        # when: the key is rotated (`kimgraph pii rotate-key`)
        changed = await store.reencrypt(keys.Keyring(NEW, [SECRET]))
        # then: every encrypted value is under the new key, the secret too
        assert changed == {"aspirations": sealed, "webhook secrets": 1}
        assert await store.stored_key_ids() == {keys.Key(NEW).id}
        # and: a server with the new secret alone signs with the same secret
        async with serving(ketapang, clock, NEW) as client:
            await submit(client, "Saluran air tersumbat")
            await until(lambda: len(receiver.acknowledged()) == 2, "the second")
    assert signed_with(receiver, secret) == [True, True]
    endpoint = await models.WebhookEndpoint.get(id=webhook_key(webhook))
    assert endpoint.secret.reveal() == secret


async def test_a_start_with_another_secret_or_none_is_refused_for_webhook_secrets(
    ketapang: str, cast: Cast, clock: FixedClock
) -> None:
    # given: the cast's reporters in clear; a webhook secret the only value
    # encrypted (the database was used without KIMGRAPH_SECRET_KEY, then with)
    async with serving(ketapang, clock, SECRET) as client:
        webhook, _ = await register(client, cast, "http://127.0.0.1:9/hook")
    kid = keys.Key(SECRET).id
    assert await store.stored_key_ids() == {kid}
    # when / then: another secret, and none, fail the start with one clear line
    for secret, message in [
        (OTHER, keys.unknown_key_message(kid)),
        (None, keys.NO_KEY_MESSAGE),
    ]:
        with pytest.raises(keys.PersonalDataKeyError) as refused:
            async with serving(ketapang, clock, secret):
                pass
        assert str(refused.value) == message
    # and: a process holding another key gets an error, never a wrong signature
    keys.install(keys.Keyring(OTHER))
    endpoint = await models.WebhookEndpoint.get(id=webhook_key(webhook))
    with pytest.raises(keys.PersonalDataKeyError) as refused:
        endpoint.secret.reveal()
    assert str(refused.value) == keys.unknown_key_message(kid)


def test_a_reporters_ciphertext_does_not_open_as_a_webhook_secret() -> None:
    # given
    ring = keys.Keyring(SECRET)
    keys.install(ring)
    name = ring.encrypt("Budi Santoso", "reporter_name")
    made = fields.SealedSecret.of("whsec_rahasia")
    # then: a secret opens as a secret only, and its text is nowhere in it
    assert made.reveal() == "whsec_rahasia"
    assert "rahasia" not in made.stored
    assert "rahasia" not in repr(made)
    with pytest.raises(keys.PersonalDataKeyError) as refused:
        fields.SealedSecret.of(name).reveal()
    assert str(refused.value) == (
        f"the webhook_endpoint.secret written with key {ring.current.id} fails its "
        "integrity check"
    )
