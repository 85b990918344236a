"""Every state-changing mutation leaves exactly one audit row, and no secret.

The list of calls is in tests/resolvers/audit_calls.py: a mutation added to the
schema must join it (with its row) or NOT_AUDITED (with the reason).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest

from kimgraph import models
from kimgraph.api import build_schema
from kimgraph.clock import FixedClock
from kimgraph.settings import Settings
from tests.conftest import execute
from tests.people import PASSWORD, REPORTER_CONTACT, Cast, snapshot
from tests.resolvers.audit_calls import (
    ADMIN,
    AUDITED_CALLS,
    CLOCK_START,
    HISTORY_CALLS,
    NEW_PASSWORD,
    NOT_AUDITED,
    NOT_YET_AUDITED,
    UNIT,
    WEBHOOK_URL_TOKEN,
    Call,
    Row,
    Setting,
    gid,
    make_setting,
)


@pytest.fixture
def clock() -> FixedClock:
    """The day of the synthetic BMKG warnings the reviews come from."""
    return FixedClock(CLOCK_START)


async def _call(client: httpx.AsyncClient, setting: Setting, made: Call) -> Any:
    body = await execute(
        client,
        made.document,
        made.variables(setting),
        setting.cast.headers[made.principal],
    )
    assert "errors" not in body, body
    payload = body["data"][made.field]
    assert payload["userErrors"] == [], payload
    return payload


async def _newest() -> int:
    newest = await models.AuditEntry.all().order_by("-id").first()
    return newest.id if newest is not None else 0


async def _rows_after(position: int) -> list[Row]:
    rows = await models.AuditEntry.filter(id__gt=position).order_by("id")
    return [
        Row(
            row.actor,
            row.role,
            row.action,
            row.target_type,
            row.target_id,
            json.loads(row.summary),
        )
        for row in rows
    ]


def test_every_mutation_is_audited_or_listed_as_recorded_elsewhere() -> None:
    # given
    schema = build_schema(Settings())._schema
    assert schema.mutation_type is not None
    # then: a new mutation fails this until it joins one of the lists
    audited = [made.field for made in AUDITED_CALLS]
    assert len(audited) == len(set(audited))
    assert set(audited).isdisjoint(NOT_AUDITED)
    assert NOT_YET_AUDITED.isdisjoint(set(audited) | set(NOT_AUDITED))
    assert set(schema.mutation_type.fields) == (
        set(audited) | set(NOT_AUDITED) | NOT_YET_AUDITED
    )
    assert {made.field for made in HISTORY_CALLS} == set(NOT_AUDITED)


@pytest.mark.parametrize("made", AUDITED_CALLS, ids=str)
async def test_a_mutation_leaves_its_exact_audit_row(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock, made: Call
) -> None:
    # given
    setting = await make_setting(clock, cast)
    before = await _newest()
    # when
    payload = await _call(client, setting, made)
    # then
    assert made.expected is not None
    assert await _rows_after(before) == [made.expected(setting, payload)]
    entry = await models.AuditEntry.get(id__gt=before)
    assert entry.occurred_at == clock.now()


async def test_every_mutation_once_leaves_one_row_each_and_no_secret(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given
    setting = await make_setting(clock, cast)
    secrets = [PASSWORD, NEW_PASSWORD, "Budi Santoso", REPORTER_CONTACT]
    secrets += [WEBHOOK_URL_TOKEN]
    secrets += [row.secret.reveal() for row in await models.WebhookEndpoint.all()]
    secrets += [h["authorization"].split()[1] for h in cast.headers.values() if h]
    # when: every mutation once, the workflow steps among them
    for made in HISTORY_CALLS + AUDITED_CALLS:
        history = await models.AspirationTransition.all().count()
        responses = await models.AspirationResponse.all().count()
        before = await _newest()
        payload = await _call(client, setting, made)
        # then: one row each with its actor, or none and a history row instead
        rows = await _rows_after(before)
        if made.expected is not None:
            assert rows == [made.expected(setting, payload)], made.field
        else:
            assert rows == [], made.field
            written = (
                await models.AspirationTransition.all().count() - history,
                await models.AspirationResponse.all().count() - responses,
            )
            assert written in ((1, 0), (0, 1)), made.field
        secrets += [
            str(value)
            for name, value in payload.items()
            if name in ("token", "oneTimePassword", "secret", "reporterKey") and value
        ]
    # and no token, password, key, hash or reporter's personal data anywhere
    secrets += [row.password_hash for row in await models.Account.all()]
    secrets += [row.token_hash for row in await models.AccessToken.all()]
    secrets += [row.key_hash for row in await models.ApiKey.all()]
    secrets += [row.prefix for row in await models.ApiKey.all()]
    secrets += [cast.home_reporter_key]
    secrets += [
        row.reporter_key_hash
        for row in await models.Aspiration.all()
        if row.reporter_key_hash
    ]
    table = repr(await models.AuditEntry.all().values_list())
    assert len(secrets) > 19
    assert [secret for secret in secrets if secret in table] == []


async def _units() -> list[tuple[object, ...]]:
    """Units, members and webhooks: the rows snapshot() does not cover."""
    return [
        tuple(row)
        for model in (
            models.Unit,
            models.UnitMember,
            models.WebhookEndpoint,
            models.WebhookDelivery,
        )
        for row in await model.all().order_by("id").values_list()
    ]


async def test_a_denied_mutation_writes_no_row_and_changes_nothing(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given
    setting = await make_setting(clock, cast)
    before = (await snapshot(), await _units(), await _newest())
    calls = {made.field: made for made in AUDITED_CALLS}
    # when: a partner publishes, an officer deactivates an account, creates a
    # unit and names an office, a partner removes a unit's member and disables,
    # enables and deletes webhooks
    denied = [
        await execute(
            client,
            calls[field].document,
            calls[field].variables(setting),
            cast.headers[who],
        )
        for field, who in (
            ("announcementPublish", "partner"),
            ("accountDeactivate", "officer_in_scope"),
            ("unitCreate", "officer_in_scope"),
            ("unitMemberRemove", "partner"),
            ("accountOfficeSet", "officer_in_scope"),
            ("webhookCreate", "officer_in_scope"),
            ("webhookUpdate", "partner"),
            ("webhookDisable", "partner"),
            ("webhookEnable", "partner"),
            ("webhookDelete", "officer_in_scope"),
        )
    ]
    # then
    assert [body["errors"][0]["extensions"]["code"] for body in denied] == [
        "FORBIDDEN"
    ] * 10
    assert (await snapshot(), await _units(), await _newest()) == before


async def test_a_repeated_unit_archive_or_rename_is_recorded_as_unchanged(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given: the unit archived once already
    setting = await make_setting(clock, cast)
    calls = {made.field: made for made in AUDITED_CALLS}
    await _call(client, setting, calls["unitArchive"])
    unit = await models.Unit.get(id=setting.unit)
    clock.advance(timedelta(hours=1))
    before = await _newest()
    same_name = replace(
        calls["unitUpdate"],
        variables=lambda s: {"id": gid("Unit", s.unit), "input": {"name": UNIT}},
    )
    # when: archived again, and renamed to its own name
    await _call(client, setting, calls["unitArchive"])
    await _call(client, setting, same_name)
    # then: one row each, before equal to after; the unit as it was
    target = gid("Unit", setting.unit)
    archived = {"name": UNIT, "archived": [True, True]}
    renamed = {"name": [UNIT, UNIT]}
    assert await _rows_after(before) == [
        Row(ADMIN, "ADMIN", "unit.archive", "Unit", target, archived),
        Row(ADMIN, "ADMIN", "unit.update", "Unit", target, renamed),
    ]
    again = await models.Unit.get(id=setting.unit)
    assert (again.name, again.archived_at) == (UNIT, unit.archived_at)
    assert unit.archived_at == clock.now() - timedelta(hours=1)


async def test_a_refused_mutation_writes_no_row(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given: a stale revision, refused inside the transaction (a rollback)
    setting = await make_setting(clock, cast)
    update = next(c for c in AUDITED_CALLS if c.field == "announcementUpdate")
    variables = update.variables(setting)
    variables["input"]["expectedRevision"] = 0
    before = (await snapshot(), await _newest())
    # when
    body = await execute(
        client, update.document, variables, cast.headers["officer_in_scope"]
    )
    # then
    assert body["data"]["announcementUpdate"]["userErrors"] == [{"code": "CONFLICT"}]
    assert (await snapshot(), await _newest()) == before


async def test_removing_a_unit_non_member_writes_no_row(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given: staff is no member of the unit (refused inside the transaction)
    setting = await make_setting(clock, cast)
    remove = next(c for c in AUDITED_CALLS if c.field == "unitMemberRemove")
    variables = remove.variables(setting)
    variables["accountId"] = gid("Account", setting.staff)
    before = (await _units(), await _newest())
    # when
    body = await execute(client, remove.document, variables, cast.headers["admin"])
    # then
    assert body["data"]["unitMemberRemove"]["userErrors"] == [{"code": "INVALID"}]
    assert (await _units(), await _newest()) == before


async def test_a_repeated_office_or_webhook_disable_is_recorded_as_unchanged(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given: the office named and the webhook disabled once already
    setting = await make_setting(clock, cast)
    calls = {made.field: made for made in AUDITED_CALLS}
    await _call(client, setting, calls["accountOfficeSet"])
    await _call(client, setting, calls["webhookDisable"])
    before = await _newest()
    # when: both again
    await _call(client, setting, calls["accountOfficeSet"])
    await _call(client, setting, calls["webhookDisable"])
    # then: one row each, before equal to after
    assert await _rows_after(before) == [
        Row(
            ADMIN,
            "ADMIN",
            "account.office_set",
            "Account",
            gid("Account", setting.staff),
            {"office": ["Dinas Sosial", "Dinas Sosial"]},
        ),
        Row(
            ADMIN,
            "ADMIN",
            "webhook.disable",
            "Webhook",
            gid("Webhook", setting.webhooks[0]),
            {"status": ["DISABLED", "DISABLED"]},
        ),
    ]


async def test_a_refused_webhook_url_writes_no_row(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given
    setting = await make_setting(clock, cast)
    update = next(c for c in AUDITED_CALLS if c.field == "webhookUpdate")
    variables = update.variables(setting)
    variables["input"]["url"] = "https://169.254.169.254/latest/meta-data"
    before = (await _units(), await _newest())
    # when
    body = await execute(client, update.document, variables, cast.headers["admin"])
    # then: no new secret, no change, no row
    assert body["data"]["webhookUpdate"] == {
        "webhook": None,
        "secret": None,
        "userErrors": [{"code": "INVALID"}],
    }
    assert (await _units(), await _newest()) == before
