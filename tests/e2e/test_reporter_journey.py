"""A reporter's whole journey against a real server, with httpx and no account.

The must-show of issue 13 (docs/aspiration-workflow.md, "The reporter"): submit,
a request for information the ticket shows, an answer with the reporter key, a
unit's response disputed and given again, a confirmation; a wrong key changes
nothing and counts toward the limit, which holds even the right key off until
KIMGRAPH_REPORTER_KEY_RETRY_SECONDS have passed.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.e2e.aspiration_desk import (
    HOME_DESA,
    Aspiration,
    Desk,
    desk_for,
    staffed_server,
)
from tests.e2e.server import Server

# Short enough to wait for, long enough that the five wrong keys and the refused
# right one all fall inside one wait on a loaded machine.
RETRY_SECONDS = 4
# Far below the default five minutes: the setting is what the server waits.
WAIT_DEADLINE_S = 20.0
# Benua Kayong's officer, whose scope does not hold the home desa: as a member of
# Dinas PUPR it acts on the aspiration only as the unit.
UNIT_MEMBER = "officer_out_of_scope"

MUTATION_ASPIRATION_SUBMIT = """
mutation ($input: AspirationSubmitInput!) {
  aspirationSubmit(input: $input) {
    ticket reporterKey aspiration { id status version }
    userErrors { field code message }
  }
}
"""
MUTATION_ASPIRATION_REPORTER_STEP = """
mutation ($input: AspirationReporterStepInput!) {
  aspirationReporterStep(input: $input) {
    aspiration { status version statusNote }
    userErrors { field code message }
  }
}
"""
QUERY_ASPIRATION_TRACK = """
query ($ticket: String!) {
  aspirationTrack(ticket: $ticket) {
    status version statusNote reporterName reporterContact contentWithheld
    history { from to note publicNote actingAs actorName }
  }
}
"""
QUERY_OFFICERS = "{ accounts(role: OFFICER) { edges { node { id username } } } }"
MUTATION_UNIT_CREATE = """
mutation ($input: UnitCreateInput!) {
  unitCreate(input: $input) { unit { id } userErrors { field code message } }
}
"""
MUTATION_UNIT_MEMBER_ADD = """
mutation ($id: ID!, $accountId: ID!) {
  unitMemberAdd(id: $id, accountId: $accountId) {
    unit { id } userErrors { field code message }
  }
}
"""

ASKED = "Mohon sebutkan nomor tiang lampu yang padam."
ANSWERED = "Tiang nomor 14, di depan masjid."
RESPONSE = "Lampu sudah diganti."
DISPUTED = "Lampu menyala semalam, lalu padam lagi."
RESPONSE_AGAIN = "Kabel tiang 14 diganti; lampu menyala."
WRONG = "2345-6789-ABCD-EFGH"
WRONG_KEY = [
    {
        "field": ["input", "key"],
        "code": "INVALID_CREDENTIALS",
        "message": "wrong ticket or reporter key",
    }
]
THROTTLED = [
    {
        "field": None,
        "code": "RATE_LIMITED",
        # Rounded up to whole minutes, whatever the setting.
        "message": "too many wrong reporter keys; try again in 1 minute(s)",
    }
]
OFFICER = "officer_in_scope"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def staffed(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Server, dict[str, str]]]:
    """The desk's server, with a short reporter-key wait."""
    env = {"KIMGRAPH_REPORTER_KEY_RETRY_SECONDS": str(RETRY_SECONDS)}
    with staffed_server(str(request.param), tmp_path, env) as deployment:
        yield deployment


@pytest_asyncio.fixture
async def desk(staffed: tuple[Server, dict[str, str]]) -> AsyncIterator[Desk]:
    async with desk_for(*staffed) as state:
        yield state


async def dinas_pupr(desk: Desk) -> str:
    """Dinas PUPR for the kabupaten, with UNIT_MEMBER in it; its id."""
    made = await desk.data(
        "admin",
        MUTATION_UNIT_CREATE,
        {"input": {"name": "Dinas PUPR", "region": "61.04"}},
    )
    assert made["unitCreate"]["userErrors"] == [], made
    unit: str = made["unitCreate"]["unit"]["id"]
    officers = await desk.data("admin", QUERY_OFFICERS)
    (member,) = [
        edge["node"]["id"]
        for edge in officers["accounts"]["edges"]
        if edge["node"]["username"] == UNIT_MEMBER
    ]
    added = await desk.data(
        "admin", MUTATION_UNIT_MEMBER_ADD, {"id": unit, "accountId": member}
    )
    assert added["unitMemberAdd"]["userErrors"] == [], added
    return unit


async def reporter_step(
    desk: Desk, ticket: str, key: str, action: str, text: str | None = None
) -> httpx.Response:
    """A reporter's step, as a citizen's phone sends it: no Authorization."""
    return await desk.http.post(
        "/graphql",
        json={
            "query": MUTATION_ASPIRATION_REPORTER_STEP,
            "variables": {
                "input": {"ticket": ticket, "key": key, "action": action, "text": text}
            },
        },
    )


def payload(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["aspirationReporterStep"]
    return found


async def track(desk: Desk, ticket: str) -> dict[str, Any]:
    data = await desk.data("anonymous", QUERY_ASPIRATION_TRACK, {"ticket": ticket})
    found: dict[str, Any] = data["aspirationTrack"]
    return found


def entry(
    source: str | None,
    to: str,
    acting_as: str,
    actor: str,
    public_note: str | None = None,
) -> dict[str, Any]:
    """A history row as the public reads it: never an internal note."""
    return {
        "from": source,
        "to": to,
        "note": None,
        "publicNote": public_note,
        "actingAs": acting_as,
        "actorName": actor,
    }


async def answered_after_the_wait(desk: Desk, ticket: str, key: str) -> httpx.Response:
    """The right key's ANSWER, sent until the throttle lets it through.

    A refused attempt spends nothing, so asking again is harmless.
    """
    started = time.monotonic()
    while time.monotonic() - started < WAIT_DEADLINE_S:
        response = await reporter_step(desk, ticket, key, "ANSWER", ANSWERED)
        if response.status_code != 429:
            return response
        await asyncio.sleep(0.2)
    raise AssertionError(f"still throttled after {WAIT_DEADLINE_S} s")


async def test_a_reporter_without_an_account_takes_the_journey_to_resolved(
    desk: Desk,
) -> None:
    # given: a citizen submits without an account
    body = await desk.data(
        "anonymous",
        MUTATION_ASPIRATION_SUBMIT,
        {
            "input": {
                "region": HOME_DESA,
                "title": "Lampu jalan padam",
                "description": "Lampu jalan di depan masjid padam.",
                "category": "INFRASTRUCTURE",
                "reporterName": "Rina Marlina",
                "reporterContact": "0812-5550-7788",
            }
        },
    )
    submitted = body["aspirationSubmit"]
    ticket, key = submitted["ticket"], submitted["reporterKey"]
    assert re.fullmatch(r"ASP-6104-20\d\d-[2-9A-HJKMNP-Z]{8}", ticket)
    assert re.fullmatch(r"([2-9A-HJKMNP-Z]{4}-){3}[2-9A-HJKMNP-Z]{4}", key)
    assert (submitted["aspiration"]["status"], submitted["userErrors"]) == (
        "SUBMITTED",
        [],
    )
    aspiration = Aspiration(submitted["aspiration"]["id"], ticket)
    history = [entry(None, "SUBMITTED", "REPORTER", "anonymous")]
    # when: the region's officer asks for information, with a public note
    await desk.step(
        "officer_in_scope",
        aspiration,
        "NEEDS_INFO",
        note="Cek dulu ke kepala dusun.",
        publicNote=ASKED,
    )
    # then: the ticket shows what is asked; nothing internal or personal
    history.append(entry("SUBMITTED", "NEEDS_INFO", "VERIFIER", OFFICER, ASKED))
    asked = await track(desk, ticket)
    assert asked == {
        "status": "NEEDS_INFO",
        "version": 2,
        "statusNote": ASKED,
        "reporterName": None,
        "reporterContact": None,
        "contentWithheld": True,
        "history": history,
    }

    # when: a wrong key
    wrong = await reporter_step(desk, ticket, WRONG, "ANSWER", ANSWERED)
    # then: refused word for word, and the aspiration is as it was
    assert (wrong.status_code, payload(wrong)) == (
        200,
        {"aspiration": None, "userErrors": WRONG_KEY},
    )
    assert await track(desk, ticket) == asked
    # when: four more wrong keys: each still checked, each refused the same
    for _ in range(4):
        again = await reporter_step(desk, ticket, WRONG, "WITHDRAW")
        assert payload(again) == {"aspiration": None, "userErrors": WRONG_KEY}
    # and: the right key, the sixth try
    held = await reporter_step(desk, ticket, key, "ANSWER", ANSWERED)
    # then: the five wrong keys counted: even the right key is held off, and
    # nothing changes
    assert (held.status_code, payload(held)) == (
        429,
        {"aspiration": None, "userErrors": THROTTLED},
    )
    assert 1 <= int(held.headers["retry-after"]) <= RETRY_SECONDS
    assert await track(desk, ticket) == asked

    # when: the wait is over, the reporter answers with the key
    answered = await answered_after_the_wait(desk, ticket, key)
    # then: the answer is the step's public note, and the officer works on
    history.append(entry("NEEDS_INFO", "SUBMITTED", "REPORTER", "Pelapor", ANSWERED))
    assert (answered.status_code, payload(answered)) == (
        200,
        {
            "aspiration": {"status": "SUBMITTED", "version": 3, "statusNote": ANSWERED},
            "userErrors": [],
        },
    )
    pupr = await dinas_pupr(desk)
    aspiration.version = 3
    await desk.step("officer_in_scope", aspiration, "VERIFIED")
    await desk.step("officer_in_scope", aspiration, "DISPOSED", unitId=pupr)
    # and: only the unit's member works on it and responds
    await desk.step(UNIT_MEMBER, aspiration, "IN_PROGRESS")
    await desk.step(UNIT_MEMBER, aspiration, "RESPONDED", publicNote=RESPONSE)
    history += [
        entry("SUBMITTED", "VERIFIED", "VERIFIER", OFFICER),
        entry("VERIFIED", "DISPOSED", "VERIFIER", OFFICER),
        entry("DISPOSED", "IN_PROGRESS", "UNIT", UNIT_MEMBER),
        entry("IN_PROGRESS", "RESPONDED", "UNIT", UNIT_MEMBER, RESPONSE),
    ]
    responded = await track(desk, ticket)
    assert responded == asked | {
        "status": "RESPONDED",
        "version": 7,
        "statusNote": RESPONSE,
        "history": history,
    }

    # when: the reporter disputes the response with the key
    disputed = payload(await reporter_step(desk, ticket, key, "DISPUTE", DISPUTED))
    # then: back with the unit, the dispute on the ticket
    assert disputed == {
        "aspiration": {"status": "IN_PROGRESS", "version": 8, "statusNote": DISPUTED},
        "userErrors": [],
    }
    history.append(entry("RESPONDED", "IN_PROGRESS", "REPORTER", "Pelapor", DISPUTED))
    # when: the unit responds again
    aspiration.version = 8
    await desk.step(UNIT_MEMBER, aspiration, "RESPONDED", publicNote=RESPONSE_AGAIN)
    history.append(
        entry("IN_PROGRESS", "RESPONDED", "UNIT", UNIT_MEMBER, RESPONSE_AGAIN)
    )
    assert await track(desk, ticket) == asked | {
        "status": "RESPONDED",
        "version": 9,
        "statusNote": RESPONSE_AGAIN,
        "history": history,
    }
    # and: the reporter confirms
    confirmed = payload(await reporter_step(desk, ticket, key, "CONFIRM"))
    # then: resolved, and the ticket tells the whole story, to anyone
    assert confirmed == {
        "aspiration": {"status": "RESOLVED", "version": 10, "statusNote": None},
        "userErrors": [],
    }
    history.append(entry("RESPONDED", "RESOLVED", "REPORTER", "Pelapor"))
    assert await track(desk, ticket) == asked | {
        "status": "RESOLVED",
        "version": 10,
        "statusNote": None,
        "history": history,
    }
