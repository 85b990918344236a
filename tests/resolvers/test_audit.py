"""auditLog: ADMIN only, newest first, exact filters and pages; failed sign-ins."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from kimgraph import audit, models
from kimgraph.accounts.principals import Principal, Role
from kimgraph.clock import FixedClock
from kimgraph.cursors import encode_id
from schema.audit import AuditAction as SchemaAction
from tests.conftest import execute
from tests.people import PASSWORD, Cast

QUERY_AUDIT_LOG = """
query ($actor: String, $action: AuditAction, $targetId: ID, $from: DateTime,
       $to: DateTime, $first: Int, $after: String) {
  auditLog(actor: $actor, action: $action, targetId: $targetId, from: $from,
           to: $to, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      occurredAt actorKind actor actorId role action targetType targetId summary
    } }
  }
}
"""
MUTATION_TOKEN_CREATE = """
mutation ($input: TokenCreateInput!) {
  tokenCreate(input: $input) { token userErrors { code } }
}
"""
START = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
EDITOR = Principal(
    role=Role.OFFICER,
    region_code="61.04.16",
    display_name="Camat",
    account_id=7,
    username="camat",
)
PARTNER = Principal(
    role=Role.PARTNER, region_code="61.04", display_name="Mitra", api_key_id=3
)


async def _entries() -> None:
    """Four rows an hour apart: two by the officer, one by a key, one by the CLI."""
    made = [
        (EDITOR, audit.AuditAction.ANNOUNCEMENT_PUBLISH, ("Announcement", 1)),
        (PARTNER, audit.AuditAction.SIGN_IN, ("Account", 2)),
        (EDITOR, audit.AuditAction.ANNOUNCEMENT_UPDATE, ("Announcement", 1)),
        (None, audit.AuditAction.API_KEY_CREATE, ("ApiKey", 3)),
    ]
    for hour, (who, action, (type_name, key)) in enumerate(made):
        await audit.record(
            None,
            who,
            action,
            audit.target(type_name, key),
            {"n": hour},
            at=START + timedelta(hours=hour),
        )


def _node(hour: int, who: str, action: str, target: tuple[str, int]) -> dict[str, Any]:
    actors = {
        "officer": ("ACCOUNT", "camat", encode_id("Account", 7), "OFFICER"),
        "partner": ("API_KEY", "Mitra", encode_id("ApiKey", 3), "PARTNER"),
        "system": ("SYSTEM", "system", None, None),
    }
    kind, name, actor_id, role = actors[who]
    return {
        "occurredAt": (START + timedelta(hours=hour)).isoformat(),
        "actorKind": kind,
        "actor": name,
        "actorId": actor_id,
        "role": role,
        "action": action,
        "targetType": target[0],
        "targetId": encode_id(*target),
        "summary": json.dumps({"n": hour}),
    }


NODES = [
    _node(3, "system", "API_KEY_CREATE", ("ApiKey", 3)),
    _node(2, "officer", "ANNOUNCEMENT_UPDATE", ("Announcement", 1)),
    _node(1, "partner", "SIGN_IN", ("Account", 2)),
    _node(0, "officer", "ANNOUNCEMENT_PUBLISH", ("Announcement", 1)),
]


async def _log(
    client: httpx.AsyncClient, cast: Cast, **variables: Any
) -> dict[str, Any]:
    body = await execute(client, QUERY_AUDIT_LOG, variables, cast.headers["admin"])
    assert "errors" not in body, body
    log: dict[str, Any] = body["data"]["auditLog"]
    return log


def _nodes(log: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in log["edges"]]


async def test_an_admin_reads_the_whole_log_newest_first(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: only these rows (the cast's setup wrote its own)
    await models.AuditEntry.all().delete()
    await _entries()
    # when
    log = await _log(client, cast)
    # then
    assert (log["totalCount"], log["pageInfo"]["hasNextPage"]) == (4, False)
    assert _nodes(log) == NODES


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"actor": "camat"}, [NODES[1], NODES[3]]),
        ({"actor": "system"}, [NODES[0]]),
        ({"actor": "nobody"}, []),
        ({"action": "SIGN_IN"}, [NODES[2]]),
        ({"targetId": encode_id("Announcement", 1)}, [NODES[1], NODES[3]]),
        # from is inclusive, to exclusive; WIB instants count as the same time
        ({"from": "2026-11-28T09:00:00+07:00"}, NODES[:3]),
        ({"to": "2026-11-28T03:00:00Z"}, NODES[2:]),
        (
            {"actor": "camat", "from": "2026-11-28T02:00:00Z"},
            [NODES[1]],
        ),
    ],
)
async def test_filters_combine_exactly(
    client: httpx.AsyncClient,
    cast: Cast,
    variables: dict[str, Any],
    expected: list[dict[str, Any]],
) -> None:
    # given
    await models.AuditEntry.all().delete()
    await _entries()
    # when
    log = await _log(client, cast, **variables)
    # then
    assert (_nodes(log), log["totalCount"]) == (expected, len(expected))


async def test_pages_follow_each_other_without_gaps(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    await models.AuditEntry.all().delete()
    await _entries()
    # when
    first = await _log(client, cast, first=3)
    second = await _log(client, cast, first=3, after=first["pageInfo"]["endCursor"])
    # then
    assert (_nodes(first), first["pageInfo"]["hasNextPage"]) == (NODES[:3], True)
    assert (_nodes(second), second["pageInfo"]["hasNextPage"]) == (NODES[3:], False)
    assert (first["totalCount"], second["totalCount"]) == (4, 4)


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"first": 101}, "INVALID_ARGUMENT"),
        ({"after": encode_id("Account", 1)}, "INVALID_CURSOR"),
        ({"from": "2026-11-28T09:00:00"}, "INVALID_ARGUMENT"),
    ],
)
async def test_bad_arguments_are_refused(
    client: httpx.AsyncClient, cast: Cast, variables: dict[str, Any], code: str
) -> None:
    body = await execute(client, QUERY_AUDIT_LOG, variables, cast.headers["admin"])
    assert (body["data"], body["errors"][0]["extensions"]["code"]) == (None, code)


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("partner", "FORBIDDEN"),
        ("kim_home", "FORBIDDEN"),
        ("officer_in_scope", "FORBIDDEN"),
    ],
)
async def test_only_an_admin_reads_the_log(
    client: httpx.AsyncClient, cast: Cast, who: str, code: str
) -> None:
    # when
    body = await execute(client, QUERY_AUDIT_LOG, {}, cast.headers[who])
    # then
    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == [code]


@pytest.mark.parametrize(
    ("username", "actor", "target"),
    [
        ("camat_delta_pawan", ("account", "camat_delta_pawan", "OFFICER"), True),
        ("tidak_ada", ("system", "system", None), False),
    ],
)
async def test_a_failed_sign_in_is_recorded_without_what_was_typed(
    client: httpx.AsyncClient,
    cast: Cast,
    clock: FixedClock,
    username: str,
    actor: tuple[str, str, str | None],
    target: bool,
) -> None:
    # given
    before = await models.AuditEntry.all().count()
    attempt = "Rahasia-" + PASSWORD
    # when
    body = await execute(
        client,
        MUTATION_TOKEN_CREATE,
        {"input": {"username": username, "password": attempt}},
    )
    # then
    assert body["data"]["tokenCreate"] == {
        "token": None,
        "userErrors": [{"code": "INVALID_CREDENTIALS"}],
    }
    rows = await models.AuditEntry.all().order_by("id").offset(before)
    assert len(rows) == 1
    account = await models.Account.get_or_none(username=username)
    assert (
        rows[0].actor_kind,
        rows[0].actor,
        rows[0].role,
        rows[0].action,
        rows[0].target_type,
        rows[0].target_id,
        rows[0].summary,
        rows[0].occurred_at,
    ) == (
        *actor,
        "auth.sign_in_failure",
        "Account",
        encode_id("Account", account.id) if target and account else "",
        '{"client": "127.0.0.1"}',
        clock.now(),
    )
    table = repr(await models.AuditEntry.all().values_list())
    assert attempt not in table
    assert "tidak_ada" not in table


def test_the_api_enum_lists_every_audited_action() -> None:
    assert [(a.name, a.value) for a in SchemaAction] == [
        (a.name, a.value) for a in audit.AuditAction
    ]
