"""The personal-data rule in every channel: queries, subscriptions, tracking, logs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.aspiration_desk import (
    HOME_DESA,
    Desk,
    follow_aspirations,
    staffed_server,
)
from tests.e2e.server import Server

NAME = "Hartini Wulandari"
CONTACT = "0812-5550-8642"
ANONYMOUS_CONTACT = "Jl. Merdeka No. 17, RT 02"
FIELDS = """
  ticket title description status reporterName reporterContact contentWithheld
  history { from to note publicNote actorName } responses { message public }
"""
QUERY_ONE = f"query ($id: ID!) {{ aspiration(id: $id) {{ {FIELDS} }} }}"
QUERY_LIST = f"{{ aspirations(first: 100) {{ edges {{ node {{ {FIELDS} }} }} }} }}"
QUERY_TRACK = f"query ($t: String!) {{ aspirationTrack(ticket: $t) {{ {FIELDS} }} }}"
QUERY_CURSOR = "{ aspirations(first: 1) { eventCursor } }"
MUTATION_MODERATE = """
mutation ($id: ID!) {
  aspirationModerate(id: $id, input: {hidden: true, reason: "Menyebut nama"}) {
    userErrors { code }
  }
}
"""
ROLES = (
    "anonymous",
    "partner",
    "officer_out_of_scope",
    "officer_in_scope",
    "admin",
    "kim_home",
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def staffed(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Server, dict[str, str]]]:
    # Debug logging logs every SQL statement: the strictest test of the log.
    env = {"KIMGRAPH_LOG_LEVEL": "debug"}
    with staffed_server(str(request.param), tmp_path, env) as deployment:
        yield deployment


async def test_reporters_personal_data_reaches_only_those_allowed_in_any_channel(
    desk: Desk,
) -> None:
    # given: followers of the desa before anything happens
    cursor = (await desk.data("admin", QUERY_CURSOR))["aspirations"]["eventCursor"]
    followers = {
        who: await follow_aspirations(
            desk.server,
            {"region": HOME_DESA, "after": cursor},
            desk.authorization[who],
        )
        for who in ("partner", "officer_in_scope", "kim_home")
    }
    # when: a KIM submits for a resident, twice; a citizen submits alone
    secret = await desk.submit(
        "kim_home", HOME_DESA, reporterName=NAME, reporterContact=CONTACT
    )
    public = await desk.submit(
        "kim_home",
        HOME_DESA,
        reporterName=NAME,
        reporterContact=CONTACT,
        visibility="PUBLIC",
    )
    alone = await desk.submit(
        "anonymous",
        HOME_DESA,
        reporterName="Warga",
        reporterContact=ANONYMOUS_CONTACT,
        visibility="ANONYMOUS",
    )
    followers["ticket"] = await follow_aspirations(
        desk.server, {"ticket": secret.ticket, "after": cursor}, None
    )
    # and: it is handled, answered publicly and internally, and one is hidden
    await desk.step("admin", secret, "VERIFIED", note=f"Sudah ditelepon {CONTACT}")
    await desk.step("admin", secret, "DISPOSED", assignedUnit="Dinas PUPR")
    await desk.step("officer_in_scope", secret, "IN_PROGRESS")
    await desk.respond("officer_in_scope", secret, "Tim survei datang Senin.", True)
    await desk.respond("officer_in_scope", secret, f"Hubungi {NAME}.", False)
    await desk.step(
        "officer_in_scope", secret, "RESPONDED", publicNote="Jalan sudah ditambal."
    )
    await desk.data("admin", MUTATION_MODERATE, {"id": public.id})
    # then: every follower gets its events, none with personal data
    expected = {"partner": 9, "officer_in_scope": 9, "kim_home": 9, "ticket": 6}
    received = {
        who: await follower.events(expected[who]) for who, follower in followers.items()
    }
    for who, follower in followers.items():
        assert await follower.nothing_within(0.5), who
        await follower.close()
        frames = "\n".join(follower.frames)
        for personal in (NAME, CONTACT, ANONYMOUS_CONTACT):
            assert personal not in frames, (who, personal)
    assert [e["kind"] for e in received["ticket"]] == [
        "SUBMITTED",
        "TRANSITIONED",
        "TRANSITIONED",
        "TRANSITIONED",
        "RESPONDED",
        "TRANSITIONED",
    ]
    assert received["ticket"][0]["aspiration"]["title"] == "(rahasia)"
    # when: every role reads through every query
    seen: dict[str, str] = {}
    for who in ROLES:
        bodies = [await desk.body(who, QUERY_LIST)]
        for aspiration in (secret, public, alone):
            bodies.append(await desk.body(who, QUERY_ONE, {"id": aspiration.id}))
            bodies.append(await desk.body(who, QUERY_TRACK, {"t": aspiration.ticket}))
        seen[who] = json.dumps(bodies, ensure_ascii=False)
    # then: only the reporter's KIM, officers in scope and admins read it
    found = {
        who: [p for p in (NAME, CONTACT, ANONYMOUS_CONTACT) if p in text]
        for who, text in seen.items()
    }
    assert found == {
        "anonymous": [],
        "partner": [],
        "officer_out_of_scope": [],
        "officer_in_scope": [NAME, CONTACT, ANONYMOUS_CONTACT],
        "admin": [NAME, CONTACT, ANONYMOUS_CONTACT],
        "kim_home": [NAME, CONTACT],
    }
    # and: the server log, which logged every statement, holds none of it
    await asyncio.sleep(0.5)
    log = desk.server.output()
    assert 'INSERT INTO "aspiration"' in log
    for personal in (NAME, CONTACT, ANONYMOUS_CONTACT):
        assert personal not in log, personal
