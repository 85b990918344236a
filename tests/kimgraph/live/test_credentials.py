"""The periodic credential check: sockets of expired or revoked credentials close."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from kimgraph import models
from kimgraph.accounts import api_keys, auth
from kimgraph.accounts.principals import Principal
from kimgraph.app import create_app
from kimgraph.clock import FixedClock, SystemClock
from kimgraph.live.credentials import CredentialCheck
from kimgraph.setting_values import SettingsError
from kimgraph.settings import Settings
from tests.conftest import QueryLog
from tests.kimgraph.live.serving import DEADLINE_S, serving
from tests.people import PASSWORD, Cast

QUERY_ME = "{ me { username role } }"
ADMIN = {"me": {"username": "diskominfo", "role": "ADMIN"}}
OFFICER = {"me": {"username": "camat_delta_pawan", "role": "OFFICER"}}
PARTNER = {"me": {"username": None, "role": "PARTNER"}}
NOBODY: dict[str, Any] = {"me": None}


@dataclass(frozen=True)
class Served:
    """The app served by a real uvicorn in this event loop, and its check."""

    url: str
    check: CredentialCheck


@pytest.fixture
async def served(ketapang: str, clock: FixedClock) -> AsyncIterator[Served]:
    # The lifespan stays off: the test runs the check itself, and the lifespan
    # would tune this process's garbage collector.
    app = create_app(Settings(database_url=ketapang), clock, manage_database=False)
    async with serving(app) as (port, view):
        check = CredentialCheck(clock, view.connections, interval=3600)
        yield Served(f"ws://127.0.0.1:{port}/graphql", check)


async def signed_in(served: Served, headers: dict[str, str]) -> ClientConnection:
    """A socket that sent these credentials in connection_init and was acknowledged."""
    ws = await connect(
        served.url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        proxy=None,
        open_timeout=DEADLINE_S,
    )
    await ws.send(json.dumps({"type": "connection_init", "payload": headers}))
    assert await message(ws) == {"type": "connection_ack"}
    return ws


async def message(ws: ClientConnection) -> dict[str, Any]:
    """The next message other than a ping (answered)."""
    while True:
        raw = await asyncio.wait_for(ws.recv(decode=True), DEADLINE_S)
        decoded: dict[str, Any] = json.loads(raw)
        if decoded.get("type") != "ping":
            return decoded
        await ws.send(json.dumps({"type": "pong"}))


async def me(ws: ClientConnection) -> Any:
    """Who the socket is signed in as, asked over the socket: proof it is open."""
    await ws.send(
        json.dumps({"id": "me", "type": "subscribe", "payload": {"query": QUERY_ME}})
    )
    result = await message(ws)
    assert await message(ws) == {"id": "me", "type": "complete"}
    assert result["type"] == "next", result
    return result["payload"]["data"]


async def close_of(ws: ClientConnection) -> tuple[int, str]:
    """Wait (within the deadline) for the server to close; its code and reason."""
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(_drain(ws), DEADLINE_S)
    received = closed.value.rcvd
    assert received is not None
    return received.code, received.reason


async def _drain(ws: ClientConnection) -> None:
    while True:
        await ws.recv()


async def principal(clock: FixedClock, headers: dict[str, str]) -> Principal:
    return await auth.authenticate(clock, headers["authorization"])


async def test_an_expired_token_closes_its_sockets_and_no_others(
    served: Served, cast: Cast, clock: FixedClock
) -> None:
    # given: two sockets on a token that lasts an hour, and others that last
    token, row = await auth.issue_token(
        clock, "diskominfo", PASSWORD, ttl=timedelta(hours=1)
    )
    short = {"authorization": f"Bearer {token}"}
    expiring = [await signed_in(served, short), await signed_in(served, short)]
    officer = await signed_in(served, cast.headers["officer_in_scope"])
    partner = await signed_in(served, cast.headers["partner"])
    anonymous = await signed_in(served, cast.headers["anonymous"])
    clock.advance(timedelta(hours=1) - timedelta(seconds=1))
    assert await served.check.run_once() == 0
    assert [await me(ws) for ws in expiring] == [ADMIN, ADMIN]
    # when
    clock.advance(timedelta(seconds=1))
    closed = await served.check.run_once()
    # then
    assert closed == 2
    assert [await close_of(ws) for ws in expiring] == [(4403, "token expired")] * 2
    assert [await me(ws) for ws in (officer, partner, anonymous)] == [
        OFFICER,
        PARTNER,
        NOBODY,
    ]
    assert served.check.connections.count(("token", row.id)) == 0
    assert await served.check.run_once() == 0


async def test_a_token_revoked_in_the_database_closes_its_sockets(
    served: Served, cast: Cast, clock: FixedClock
) -> None:
    # given
    admin = await principal(clock, cast.headers["admin"])
    assert admin.token_id is not None
    revoked = await signed_in(served, cast.headers["admin"])
    officer = await signed_in(served, cast.headers["officer_in_scope"])
    partner = await signed_in(served, cast.headers["partner"])
    # when: revoked as another process would, past this process's registry
    await models.AccessToken.filter(id=admin.token_id).update(revoked_at=clock.now())
    closed = await served.check.run_once()
    # then
    assert closed == 1
    assert await close_of(revoked) == (4403, "credential revoked")
    assert [await me(ws) for ws in (officer, partner)] == [OFFICER, PARTNER]


async def test_an_api_key_revoked_by_the_cli_closes_its_sockets(
    served: Served, cast: Cast, clock: FixedClock
) -> None:
    # given: two sockets on the revoked key, one on another key, one on a token
    other_key, _ = await api_keys.create_api_key(clock, "Aplikasi Kedua", "61.04")
    partner = await principal(clock, cast.headers["partner"])
    assert partner.api_key_id is not None
    revoked = [
        await signed_in(served, cast.headers["partner"]),
        await signed_in(served, cast.headers["partner"]),
    ]
    kept = await signed_in(served, {"authorization": f"Bearer {other_key}"})
    admin = await signed_in(served, cast.headers["admin"])
    # when: what `kimgraph apikeys revoke` does
    await api_keys.revoke_api_key(SystemClock(), partner.api_key_id)
    closed = await served.check.run_once()
    # then
    assert closed == 2
    assert [await close_of(ws) for ws in revoked] == [(4403, "credential revoked")] * 2
    assert [await me(ws) for ws in (kept, admin)] == [
        {"me": {"username": None, "role": "PARTNER"}},
        ADMIN,
    ]


async def test_a_deactivated_account_or_a_deleted_token_closes_its_sockets(
    served: Served, cast: Cast, clock: FixedClock
) -> None:
    # given
    officer = await principal(clock, cast.headers["officer_in_scope"])
    admin = await principal(clock, cast.headers["admin"])
    deactivated = await signed_in(served, cast.headers["officer_in_scope"])
    deleted = await signed_in(served, cast.headers["admin"])
    kept = await signed_in(served, cast.headers["officer_out_of_scope"])
    # when
    await models.Account.filter(id=officer.account_id).update(is_active=False)
    await models.AccessToken.filter(id=admin.token_id).delete()
    closed = await served.check.run_once()
    # then
    assert closed == 2
    assert await close_of(deactivated) == (4403, "account deactivated")
    assert await close_of(deleted) == (4403, "credential revoked")
    assert await me(kept) == {
        "me": {"username": "camat_benua_kayong", "role": "OFFICER"}
    }


async def test_a_check_is_one_query_per_kind_of_credential_not_per_socket(
    served: Served, cast: Cast, sql_log: QueryLog
) -> None:
    # given: anonymous sockets only, then eight sockets on three credentials
    await signed_in(served, cast.headers["anonymous"])
    sql_log.statements.clear()
    assert await served.check.run_once() == 0
    assert sql_log.statements == []
    for name in ("admin", "admin", "admin", "officer_in_scope", "officer_in_scope"):
        await signed_in(served, cast.headers[name])
    for _ in range(3):
        await signed_in(served, cast.headers["partner"])
    # when
    sql_log.statements.clear()
    closed = await served.check.run_once()
    # then
    assert closed == 0
    assert len(sql_log.statements) == 2, sql_log.statements
    assert "access_token" in sql_log.statements[0]
    assert "api_key" in sql_log.statements[1]


def test_the_check_interval_defaults_to_30_seconds() -> None:
    assert Settings.from_env({}).credential_check_seconds == 30.0
    assert (
        Settings.from_env(
            {"KIMGRAPH_CREDENTIAL_CHECK_SECONDS": "0.5"}
        ).credential_check_seconds
        == 0.5
    )


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan"])
def test_the_check_interval_must_be_a_positive_number(value: str) -> None:
    with pytest.raises(SettingsError, match="KIMGRAPH_CREDENTIAL_CHECK_SECONDS"):
        Settings.from_env({"KIMGRAPH_CREDENTIAL_CHECK_SECONDS": value})
