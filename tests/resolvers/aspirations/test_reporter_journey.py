"""A reporter's whole journey through the GraphQL HTTP API, with only ticket and key."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from kimgraph.clock import FixedClock
from tests.conftest import execute
from tests.people import HOME_DESA, Cast, snapshot
from tests.resolvers.aspirations.steps import MUTATION_ASPIRATION_TRANSITION
from tests.resolvers.aspirations.test_reporter_steps import (
    MUTATION_ASPIRATION_REPORTER_STEP,
    MUTATION_ASPIRATION_SUBMIT_KEYED,
    WRONG_KEY,
    payload_of,
    reporter_step,
)
from tests.resolvers.unit_desk import unit_desk

QUERY_TRACK = """
query ($ticket: String!) {
  aspirationTrack(ticket: $ticket) {
    status version statusNote reporterName
    history { to note publicNote actingAs actorName }
  }
}
"""
ASKED = "Mohon sebutkan nomor tiang lampu yang padam."
ANSWERED = "Tiang nomor 14, di depan masjid."
RESPONSE = "Lampu sudah diganti."
DISPUTED = "Lampu menyala semalam, lalu padam lagi."
RESPONSE_AGAIN = "Kabel tiang 14 diganti; lampu menyala."


async def step(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    aspiration_id: str,
    version: int,
    **fields: Any,
) -> int:
    """An officer's step; the new version."""
    body = await execute(
        client,
        MUTATION_ASPIRATION_TRANSITION,
        {"id": aspiration_id, "input": {"expectedVersion": version, **fields}},
        headers,
    )
    payload = body["data"]["aspirationTransition"]
    assert payload["userErrors"] == [], payload
    new_version: int = payload["aspiration"]["version"]
    return new_version


async def track(client: httpx.AsyncClient, ticket: str) -> dict[str, Any]:
    body = await execute(client, QUERY_TRACK, {"ticket": ticket})
    found: dict[str, Any] = body["data"]["aspirationTrack"]
    return found


async def test_a_reporter_follows_answers_disputes_and_confirms_with_the_key(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given: the region's officer and Dinas PUPR's member (tests/people.py)
    desk = await unit_desk(clock, cast)
    officer = desk.headers["officer_in_scope"]
    unit = desk.headers["pupr_member"]
    # when: a citizen submits without an account
    body = await execute(
        client,
        MUTATION_ASPIRATION_SUBMIT_KEYED,
        {
            "input": {
                "region": HOME_DESA,
                "title": "Lampu jalan padam",
                "description": "Lampu jalan di depan masjid padam.",
                "category": "INFRASTRUCTURE",
                "reporterName": "Rina Marlina",
            }
        },
    )
    submitted = body["data"]["aspirationSubmit"]
    ticket, key = submitted["ticket"], submitted["reporterKey"]
    aspiration_id = submitted["aspiration"]["id"]
    # and: the officer asks for information, with a public note
    version = await step(
        client,
        officer,
        aspiration_id,
        1,
        to="NEEDS_INFO",
        note="Cek dulu ke kepala dusun.",
        publicNote=ASKED,
    )
    # then: the ticket shows what is asked, and nothing internal or personal
    asked = await track(client, ticket)
    assert (asked["status"], asked["statusNote"], asked["reporterName"]) == (
        "NEEDS_INFO",
        ASKED,
        None,
    )
    assert asked["history"][-1]["note"] is None
    # when: a wrong key: nothing changes
    before = await snapshot()
    wrong = payload_of(
        await reporter_step(client, ticket, "2345-6789-ABCD-EFGH", "ANSWER", "x")
    )
    assert wrong == {"aspiration": None, "userErrors": WRONG_KEY}
    assert await snapshot() == before
    # when: the reporter answers with the key
    answered = payload_of(await reporter_step(client, ticket, key, "ANSWER", ANSWERED))
    assert answered["userErrors"] == []
    assert answered["aspiration"]["statusNote"] == ANSWERED
    # and: verified, disposed to Dinas PUPR, worked on and responded to
    version = await step(client, officer, aspiration_id, 3, to="VERIFIED")
    version = await step(
        client, officer, aspiration_id, version, to="DISPOSED", unitId=desk.pupr
    )
    version = await step(client, unit, aspiration_id, version, to="IN_PROGRESS")
    version = await step(
        client, unit, aspiration_id, version, to="RESPONDED", publicNote=RESPONSE
    )
    # when: the reporter disputes the response
    disputed = payload_of(await reporter_step(client, ticket, key, "DISPUTE", DISPUTED))
    assert disputed["userErrors"] == []
    # and: the unit responds again, and the reporter confirms
    version = await step(
        client,
        unit,
        aspiration_id,
        version + 1,
        to="RESPONDED",
        publicNote=RESPONSE_AGAIN,
    )
    confirmed = payload_of(await reporter_step(client, ticket, key, "CONFIRM"))
    assert confirmed["userErrors"] == []
    # then: resolved, and the ticket tells the whole story
    final = await track(client, ticket)
    assert (final["status"], final["version"]) == ("RESOLVED", version + 1)
    assert [
        (h["to"], h["actingAs"], h["actorName"], h["publicNote"], h["note"])
        for h in final["history"]
    ] == [
        ("SUBMITTED", "REPORTER", "anonymous", None, None),
        ("NEEDS_INFO", "VERIFIER", "Camat Delta Pawan", ASKED, None),
        ("SUBMITTED", "REPORTER", "Pelapor", ANSWERED, None),
        ("VERIFIED", "VERIFIER", "Camat Delta Pawan", None, None),
        ("DISPOSED", "VERIFIER", "Camat Delta Pawan", None, None),
        ("IN_PROGRESS", "UNIT", "Pupr Member", None, None),
        ("RESPONDED", "UNIT", "Pupr Member", RESPONSE, None),
        ("IN_PROGRESS", "REPORTER", "Pelapor", DISPUTED, None),
        ("RESPONDED", "UNIT", "Pupr Member", RESPONSE_AGAIN, None),
        ("RESOLVED", "REPORTER", "Pelapor", None, None),
    ]
    # and: the wrong key counted toward the limit; four more and even the
    # right key is refused (nothing changes) until the allowance refills
    for _ in range(4):
        again = payload_of(await reporter_step(client, ticket, "2345", "WITHDRAW"))
        assert again["userErrors"] == WRONG_KEY
    before = await snapshot()
    limited = await client.post(
        "/graphql",
        json={
            "query": MUTATION_ASPIRATION_REPORTER_STEP,
            "variables": {"input": {"ticket": ticket, "key": key, "action": "DISPUTE"}},
        },
    )
    assert limited.status_code == 429
    assert (
        limited.json()["data"]["aspirationReporterStep"]["userErrors"][0]["code"]
        == "RATE_LIMITED"
    )
    assert await snapshot() == before
    clock.advance(timedelta(minutes=5))
    late = payload_of(await reporter_step(client, ticket, key, "DISPUTE"))
    assert late["userErrors"][0]["code"] == "INVALID_TRANSITION"
