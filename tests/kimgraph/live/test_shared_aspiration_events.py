"""aspirationEvents of partner keys share one run per region, over real sockets.

A real server in this process (its hub following the log), real WebSockets,
real keys: two partner keys of Delta Pawan share one group, a key of Benua
Kayong with the same document and variables has its own, an officer runs on
its own (docs/live-delivery.md, "Shared subscriptions").
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection

from kimgraph import aspirations, models
from kimgraph.accounts import api_keys
from kimgraph.app import create_app
from kimgraph.clock import FixedClock, SystemClock
from kimgraph.cursors import encode_event_cursor
from kimgraph.live.credentials import CredentialCheck
from kimgraph.live.sharing import Sharing
from kimgraph.settings import Settings
from resolvers import aspiration_events
from tests.kimgraph.live.serving import DEADLINE_S, serving
from tests.kimgraph.live.sockets import until
from tests.kimgraph.live.test_credentials import (
    Served,
    close_of,
    message,
    signed_in,
)
from tests.people import HOME_DESA, OTHER_DESA, Cast

SUBSCRIPTION_ASPIRATION_EVENTS = """
subscription ($after: String) {
  aspirationEvents(after: $after) {
    cursor kind to
    aspiration { ticket title reporterName reporterContact region { code } }
  }
}
"""
MUTATION_ASPIRATION_SUBMIT = """
mutation ($input: AspirationSubmitInput!) {
  aspirationSubmit(input: $input) { ticket userErrors { code } }
}
"""
QUERY_EVENT_CURSOR = "{ aspirations(first: 1) { eventCursor } }"
NAME = "Hartini Wulandari"
CONTACT = "0812-5550-8642"
DELTA_PAWAN = "61.04.16"
BENUA_KAYONG = "61.04.18"


@dataclass(frozen=True)
class Deployment:
    """The app served in this event loop: its sockets, its HTTP, its shared runs."""

    served: Served
    http: httpx.AsyncClient
    sharing: Sharing

    async def submit(self, cast: Cast, region: str) -> dict[str, Any]:
        """An admin submits a public aspiration with personal data: its event."""
        variables = {
            "input": {
                "region": region,
                "title": f"Jalan longsor di {region}",
                "description": "Badan jalan longsor sepanjang 20 meter.",
                "category": "INFRASTRUCTURE",
                "visibility": "PUBLIC",
                "reporterName": NAME,
                "reporterContact": CONTACT,
            }
        }
        response = await self.http.post(
            "/graphql",
            json={"query": MUTATION_ASPIRATION_SUBMIT, "variables": variables},
            headers=cast.headers["admin"],
        )
        payload = response.json()["data"]["aspirationSubmit"]
        assert payload["userErrors"] == []
        event = await models.Event.filter(stream=aspirations.STREAM).order_by("-id")
        return {
            "cursor": encode_event_cursor(event[0].id),
            "kind": "SUBMITTED",
            "to": "SUBMITTED",
            "aspiration": {
                "ticket": payload["ticket"],
                "title": f"Jalan longsor di {region}",
                "reporterName": None,
                "reporterContact": None,
                "region": {"code": region},
            },
        }

    async def event_cursor(self, headers: dict[str, str]) -> str:
        response = await self.http.post(
            "/graphql", json={"query": QUERY_EVENT_CURSOR}, headers=headers
        )
        cursor: str = response.json()["data"]["aspirations"]["eventCursor"]
        return cursor

    def all_live(self, members: int) -> bool:
        """Whether this many operations are members of shared runs, all live."""
        groups = self.sharing.groups.values()
        return self.sharing.member_count == members and all(
            member.live for group in groups for member in group.members
        )


@pytest.fixture
async def deployment(
    ketapang: str, clock: FixedClock, cast: Cast
) -> AsyncIterator[Deployment]:
    # After the cast: its aspiration's event is in the log before the hub starts.
    app = create_app(Settings(database_url=ketapang), clock)
    async with app.router.lifespan_context(app), serving(app) as (port, view):
        check = CredentialCheck(clock, view.connections, interval=3600)
        served = Served(f"ws://127.0.0.1:{port}/graphql", check)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", trust_env=False
        ) as http:
            yield Deployment(served, http, view.live.sharing)


@pytest.fixture
def executions(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often aspirationEvents executed each event (by cursor), over all runs."""
    executed: Counter[str] = Counter()
    to_event = aspiration_events.to_event

    def counted(following: Any, delivery: Any) -> Any:
        executed[delivery.event.cursor] += 1
        return to_event(following, delivery)

    monkeypatch.setattr(aspiration_events, "to_event", counted)
    return executed


async def partner_of(deployment: Deployment, clock: FixedClock, region: str) -> Any:
    """A socket signed in with a new partner key of region; (socket, key row)."""
    key, row = await api_keys.create_api_key(clock, f"Aplikasi {region}", region)
    ws = await signed_in(deployment.served, {"authorization": f"Bearer {key}"})
    return ws, row


async def subscribe(
    ws: ClientConnection, operation_id: str, after: str | None = None
) -> None:
    variables = {} if after is None else {"after": after}
    await ws.send(
        json.dumps(
            {
                "id": operation_id,
                "type": "subscribe",
                "payload": {
                    "query": SUBSCRIPTION_ASPIRATION_EVENTS,
                    "variables": variables,
                },
            }
        )
    )


def frame(operation_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """The exact `next` message of an event."""
    return {
        "id": operation_id,
        "type": "next",
        "payload": {"data": {"aspirationEvents": event}},
    }


async def frames(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    return [await message(ws) for _ in range(count)]


async def test_partners_of_one_region_share_one_run_and_see_only_their_region(
    deployment: Deployment, cast: Cast, clock: FixedClock, executions: Counter[str]
) -> None:
    # given: two partner keys of Delta Pawan and one of Benua Kayong send the
    # same document with the same variables; an officer follows Delta Pawan
    first, _ = await partner_of(deployment, clock, DELTA_PAWAN)
    second, _ = await partner_of(deployment, clock, DELTA_PAWAN)
    elsewhere, _ = await partner_of(deployment, clock, BENUA_KAYONG)
    officer_headers = cast.headers["officer_in_scope"]
    officer = await signed_in(deployment.served, officer_headers)
    start = await deployment.event_cursor(officer_headers)
    await subscribe(first, "a")
    await subscribe(second, "b")
    await subscribe(elsewhere, "c")
    await subscribe(officer, "d", after=start)
    await until(lambda: deployment.all_live(3), DEADLINE_S)
    # when: aspirations are submitted in both kecamatan, alternately
    b1 = await deployment.submit(cast, OTHER_DESA)
    a1 = await deployment.submit(cast, HOME_DESA)
    b2 = await deployment.submit(cast, OTHER_DESA)
    a2 = await deployment.submit(cast, HOME_DESA)
    # then: each partner gets exactly its region's events, in order, without
    # the reporter's name or contact
    assert await frames(first, 2) == [frame("a", a1), frame("a", a2)]
    assert await frames(second, 2) == [frame("b", a1), frame("b", a2)]
    assert await frames(elsewhere, 2) == [frame("c", b1), frame("c", b2)]
    assert await frames(officer, 2) == [frame("d", a1), frame("d", a2)]
    # and: one group per region, the officer in none
    groups = sorted(deployment.sharing.groups.values(), key=lambda g: len(g.members))
    assert [len(group.members) for group in groups] == [1, 2]
    assert [group.context.principal.region_code for group in groups] == [
        BENUA_KAYONG,
        DELTA_PAWAN,
    ]
    assert {group.context.principal.api_key_id for group in groups} == {None}
    assert {group.context.request for group in groups} == {None}
    # and: each event executed once for its partners (the officer's run
    # executes Delta Pawan's on its own)
    assert executions == Counter(
        {b1["cursor"]: 1, b2["cursor"]: 1, a1["cursor"]: 2, a2["cursor"]: 2}
    )


async def test_a_revoked_key_ends_its_own_subscription_not_its_groups(
    deployment: Deployment, cast: Cast, clock: FixedClock
) -> None:
    # given: two partner keys of one region in one group
    revoked, row = await partner_of(deployment, clock, DELTA_PAWAN)
    kept, _ = await partner_of(deployment, clock, DELTA_PAWAN)
    await subscribe(revoked, "a")
    await subscribe(kept, "a")
    await until(lambda: deployment.all_live(2), DEADLINE_S)
    (group,) = deployment.sharing.groups.values()
    # when: what `kimgraph apikeys revoke` does, and the periodic check
    await api_keys.revoke_api_key(SystemClock(), row.id)
    closed = await deployment.served.check.run_once()
    # then: its socket is closed and leaves the group; the other stays served
    assert closed == 1
    assert await close_of(revoked) == (4403, "credential revoked")
    await until(lambda: deployment.all_live(1), DEADLINE_S)
    assert list(deployment.sharing.groups.values()) == [group]
    event = await deployment.submit(cast, HOME_DESA)
    assert await message(kept) == frame("a", event)


async def test_partners_resuming_from_one_cursor_share_the_catch_up(
    deployment: Deployment, cast: Cast, clock: FixedClock, executions: Counter[str]
) -> None:
    # given: two events in Delta Pawan after the cursor two partner apps saw
    cursor = await deployment.event_cursor(cast.headers["partner"])
    missed = [
        await deployment.submit(cast, HOME_DESA),
        await deployment.submit(cast, HOME_DESA),
    ]
    first, _ = await partner_of(deployment, clock, DELTA_PAWAN)
    second, _ = await partner_of(deployment, clock, DELTA_PAWAN)
    # when: both resume from it
    await subscribe(first, "a", after=cursor)
    await subscribe(second, "b", after=cursor)
    # then: each gets what it missed, in order, then the next one live, once
    assert await frames(first, 2) == [frame("a", e) for e in missed]
    assert await frames(second, 2) == [frame("b", e) for e in missed]
    (group,) = deployment.sharing.groups.values()
    assert list(group.catch_ups) == [cursor]
    await until(lambda: deployment.all_live(2), DEADLINE_S)
    live = await deployment.submit(cast, HOME_DESA)
    assert await message(first) == frame("a", live)
    assert await message(second) == frame("b", live)
    # and: the catch-up and the live run executed each event once for both
    assert executions == Counter({e["cursor"]: 1 for e in [*missed, live]})


async def test_a_partner_streaming_over_sse_shares_the_sockets_run(
    deployment: Deployment, cast: Cast, clock: FixedClock, executions: Counter[str]
) -> None:
    # given: a partner key of Delta Pawan on a socket, another over SSE
    socket, _ = await partner_of(deployment, clock, DELTA_PAWAN)
    key, _ = await api_keys.create_api_key(clock, "Aplikasi SSE", DELTA_PAWAN)
    await subscribe(socket, "a")
    headers = {"accept": "text/event-stream", "authorization": f"Bearer {key}"}
    body = {"query": SUBSCRIPTION_ASPIRATION_EVENTS, "variables": {}}
    async with deployment.http.stream(
        "POST", "/graphql", json=body, headers=headers
    ) as stream:
        # when: both are live in one group and an aspiration is submitted
        await until(lambda: deployment.all_live(2), DEADLINE_S)
        (group,) = deployment.sharing.groups.values()
        event = await deployment.submit(cast, HOME_DESA)
        # then: each has it once, the same bytes, from one execution
        assert await message(socket) == frame("a", event)
        chunks = aiter(stream.aiter_text())
        text = ""
        while "\r\n\r\n" not in text:
            text += await asyncio.wait_for(anext(chunks), DEADLINE_S)
    assert (
        text
        == "event: next\r\ndata: "
        + json.dumps({"data": {"aspirationEvents": event}}, separators=(",", ":"))
        + "\r\n\r\n"
    )
    assert len(group.members) == 2
    assert executions == Counter({event["cursor"]: 1})
