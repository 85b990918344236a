"""aspirationReporterStep: the reporter's own steps with ticket and reporter key."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from kimgraph import models
from kimgraph.aspirations.submission import key_digest
from kimgraph.clock import FixedClock
from kimgraph.cursors import decode_id
from tests.conftest import execute
from tests.people import Cast, snapshot
from tests.resolvers.aspirations.steps import (
    MUTATION_ASPIRATION_TRANSITION,
    PATHS,
    QUERY_ASPIRATION_TRACK,
    SUBMISSION,
    S,
    transition,
)

MUTATION_ASPIRATION_SUBMIT_KEYED = """
mutation ($input: AspirationSubmitInput!) {
  aspirationSubmit(input: $input) {
    ticket reporterKey aspiration { id status }
    userErrors { field code message }
  }
}
"""
MUTATION_ASPIRATION_REPORTER_STEP = """
mutation ($input: AspirationReporterStepInput!) {
  aspirationReporterStep(input: $input) {
    aspiration {
      status version statusNote reporterName reporterContact
      history { from to note publicNote actingAs actorName }
    }
    userErrors { field code message }
  }
}
"""
ANSWER = "Foto lokasi sudah saya titipkan ke kantor desa."
WRONG_KEY = [
    {
        "field": ["input", "key"],
        "code": "INVALID_CREDENTIALS",
        "message": "wrong ticket or reporter key",
    }
]
# Each step the key allows, from each state it allows it.
ALLOWED = [
    ("ANSWER", S.NEEDS_INFO, S.SUBMITTED),
    ("CONFIRM", S.RESPONDED, S.RESOLVED),
    ("DISPUTE", S.RESPONDED, S.IN_PROGRESS),
    *[
        ("WITHDRAW", source, S.WITHDRAWN)
        for source in (
            S.SUBMITTED,
            S.NEEDS_INFO,
            S.VERIFIED,
            S.DISPOSED,
            S.IN_PROGRESS,
        )
    ],
]
SOURCES = {
    "ANSWER": "NEEDS_INFO",
    "CONFIRM": "RESPONDED",
    "DISPUTE": "RESPONDED",
    "WITHDRAW": "DISPOSED, IN_PROGRESS, NEEDS_INFO, SUBMITTED, VERIFIED",
}


async def submit_keyed(
    client: httpx.AsyncClient, cast: Cast, principal: str = "kim_home"
) -> dict[str, Any]:
    """A new aspiration in the home desa: its id, ticket and reporter key."""
    body = await execute(
        client,
        MUTATION_ASPIRATION_SUBMIT_KEYED,
        {"input": SUBMISSION},
        cast.headers[principal],
    )
    payload = body["data"]["aspirationSubmit"]
    assert payload["userErrors"] == [], payload
    return {
        "id": payload["aspiration"]["id"],
        "ticket": payload["ticket"],
        "key": payload["reporterKey"],
    }


async def keyed_in(
    client: httpx.AsyncClient, cast: Cast, status: S
) -> tuple[dict[str, Any], int]:
    """A new keyed aspiration walked to status by the officer; it and its version."""
    made = await submit_keyed(client, cast)
    version = 1
    for target in PATHS[status]:
        body = await transition(client, cast, made["id"], target, version)
        payload = body["data"]["aspirationTransition"]
        assert payload["userErrors"] == [], payload
        version = payload["aspiration"]["version"]
    return made, version


async def reporter_step(
    client: httpx.AsyncClient,
    ticket: str,
    key: str,
    action: str,
    text: str | None = None,
) -> httpx.Response:
    """One reporter step without an account; the raw HTTP response."""
    return await client.post(
        "/graphql",
        json={
            "query": MUTATION_ASPIRATION_REPORTER_STEP,
            "variables": {
                "input": {"ticket": ticket, "key": key, "action": action, "text": text}
            },
        },
    )


def payload_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["aspirationReporterStep"]
    return result


async def test_submission_returns_a_reporter_key_kept_only_as_its_hash(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # when
    made = await submit_keyed(client, cast, "anonymous")
    # then: four groups of four from the ticket's alphabet, stored as SHA-256
    row = await models.Aspiration.get(ticket=made["ticket"])
    groups = made["key"].split("-")
    assert [len(group) for group in groups] == [4, 4, 4, 4]
    assert row.reporter_key_hash == key_digest(made["key"])
    assert made["key"].replace("-", "") not in repr(
        await models.Aspiration.filter(id=row.id).values_list()
    )


@pytest.mark.parametrize(
    ("action", "source", "target"),
    ALLOWED,
    ids=[f"{a}-{s}" for a, s, _ in ALLOWED],
)
async def test_the_right_key_takes_each_reporter_step(
    client: httpx.AsyncClient, cast: Cast, action: str, source: S, target: S
) -> None:
    # given
    made, version = await keyed_in(client, cast, source)
    events = await models.Event.all().count()
    text = ANSWER if action == "ANSWER" else None
    # when: the key as a citizen might type it, lower case without dashes
    typed = made["key"].replace("-", "").lower()
    payload = payload_of(
        await reporter_step(client, made["ticket"], typed, action, text)
    )
    # then: one step, as the reporter, whose words are the public note
    assert payload["userErrors"] == []
    found = payload["aspiration"]
    assert (found["status"], found["version"]) == (target.value, version + 1)
    assert found["history"][-1] == {
        "from": source.value,
        "to": target.value,
        "note": None,
        "publicNote": text,
        "actingAs": "REPORTER",
        "actorName": "Pelapor",
    }
    assert (found["statusNote"], found["reporterName"], found["reporterContact"]) == (
        text,
        None,
        None,
    )
    assert await models.Event.all().count() == events + 1


async def test_a_step_the_state_does_not_allow_is_invalid_and_changes_nothing(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: a keyed aspiration in every status
    keyed = {status: (await keyed_in(client, cast, status))[0] for status in PATHS}
    allowed = {(action, source) for action, source, _ in ALLOWED}
    before = await snapshot()
    # when: each action the status does not allow, with the right key
    refused = {}
    for status, made in keyed.items():
        for action in SOURCES:
            if (action, status) in allowed:
                continue
            response = await reporter_step(
                client, made["ticket"], made["key"], action, ANSWER
            )
            refused[(action, status)] = payload_of(response)
    # then
    assert refused == {
        (action, status): {
            "aspiration": None,
            "userErrors": [
                {
                    "field": ["input", "action"],
                    "code": "INVALID_TRANSITION",
                    "message": f"the reporter can {action} an aspiration only when "
                    f"it is {SOURCES[action]}; it is {status}",
                }
            ],
        }
        for (action, status) in refused
    }
    assert len(refused) == 40
    assert await snapshot() == before


async def test_an_answer_needs_text(client: httpx.AsyncClient, cast: Cast) -> None:
    # given
    made, _ = await keyed_in(client, cast, S.NEEDS_INFO)
    before = await snapshot()
    # when
    missing = payload_of(
        await reporter_step(client, made["ticket"], made["key"], "ANSWER")
    )
    blank = payload_of(
        await reporter_step(client, made["ticket"], made["key"], "ANSWER", "  \n")
    )
    # then
    expected = {
        "aspiration": None,
        "userErrors": [
            {
                "field": ["input", "text"],
                "code": "INVALID",
                "message": "text must carry the information that was asked for",
            }
        ],
    }
    assert (missing, blank) == (expected, expected)
    assert await snapshot() == before


async def test_a_wrong_key_and_an_unknown_ticket_get_the_same_error_and_change_nothing(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    made, _ = await keyed_in(client, cast, S.RESPONDED)
    other = await submit_keyed(client, cast)
    unknown = made["ticket"][:-1] + ("2" if made["ticket"][-1] != "2" else "3")
    before = await snapshot()
    # when
    tries = {
        "wrong key": (made["ticket"], "2222-3333-4444-5555"),
        "other ticket's key": (made["ticket"], other["key"]),
        "no key": (made["ticket"], ""),
        "unknown ticket": (unknown, made["key"]),
        "no ticket": ("", made["key"]),
    }
    answers = {
        name: payload_of(await reporter_step(client, ticket, key, "CONFIRM"))
        for name, (ticket, key) in tries.items()
    }
    # then: word for word the same, and no row, history row or event written
    refused = {"aspiration": None, "userErrors": WRONG_KEY}
    assert answers == {name: refused for name in tries}
    assert await snapshot() == before


async def test_an_aspiration_from_before_reporter_keys_takes_no_key(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: a row without a key hash, as migrated rows are
    made = await submit_keyed(client, cast)
    await models.Aspiration.filter(ticket=made["ticket"]).update(reporter_key_hash=None)
    before = await snapshot()
    # when
    payload = payload_of(
        await reporter_step(client, made["ticket"], made["key"], "WITHDRAW")
    )
    # then
    assert payload == {"aspiration": None, "userErrors": WRONG_KEY}
    assert await snapshot() == before


async def test_wrong_keys_are_rate_limited_per_ticket_and_address(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given: four wrong keys, then the right key (which costs nothing, even
    # when the step itself is refused), then a fifth wrong key
    made, _ = await keyed_in(client, cast, S.SUBMITTED)
    other = await submit_keyed(client, cast)
    for _ in range(4):
        wrong = payload_of(await reporter_step(client, made["ticket"], "X", "WITHDRAW"))
        assert wrong["userErrors"] == WRONG_KEY
    right = payload_of(
        await reporter_step(client, made["ticket"], made["key"], "DISPUTE")
    )
    assert right["userErrors"][0]["code"] == "INVALID_TRANSITION"
    fifth = payload_of(await reporter_step(client, made["ticket"], "X", "WITHDRAW"))
    assert fifth["userErrors"] == WRONG_KEY
    before = await snapshot()
    # when: the right key, now
    limited = await reporter_step(client, made["ticket"], made["key"], "WITHDRAW")
    # then: refused before the key is checked, 429 with how long to wait
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "300"
    assert limited.json()["data"]["aspirationReporterStep"] == {
        "aspiration": None,
        "userErrors": [
            {
                "field": None,
                "code": "RATE_LIMITED",
                "message": "too many wrong reporter keys; try again in 5 minute(s)",
            }
        ],
    }
    assert await snapshot() == before
    # and: another ticket from the same address is not held up
    elsewhere = payload_of(
        await reporter_step(client, other["ticket"], other["key"], "WITHDRAW")
    )
    assert elsewhere["userErrors"] == []
    # and: five minutes later one more try is allowed, and the right key works
    clock.advance(timedelta(minutes=5))
    later = payload_of(
        await reporter_step(client, made["ticket"], made["key"], "WITHDRAW")
    )
    assert (later["userErrors"], later["aspiration"]["status"]) == ([], "WITHDRAWN")


async def test_a_public_note_is_required_where_the_reporter_needs_a_reason(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: the internal reason alone
    steps = {
        S.NEEDS_INFO: S.SUBMITTED,
        S.ARCHIVED: S.SUBMITTED,
        S.REJECTED: S.IN_PROGRESS,
    }
    for target, source in steps.items():
        made, version = await keyed_in(client, cast, source)
        before = await snapshot()
        # when
        body = await execute(
            client,
            MUTATION_ASPIRATION_TRANSITION,
            {
                "id": made["id"],
                "input": {
                    "to": target.value,
                    "expectedVersion": version,
                    "note": "Alasan internal.",
                    "publicNote": " ",
                },
            },
            cast.headers["officer_in_scope"],
        )
        # then
        assert body["data"]["aspirationTransition"] == {
            "aspiration": None,
            "userErrors": [
                {
                    "field": ["input", "publicNote"],
                    "code": "INVALID",
                    "message": "publicNote must tell the reporter why it moves "
                    f"from {source} to {target}",
                }
            ],
        }, target
        assert await snapshot() == before


async def test_track_shows_the_public_note_and_never_the_internal_one(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: asked for information, with an internal and a public note
    made = await submit_keyed(client, cast)
    body = await execute(
        client,
        MUTATION_ASPIRATION_TRANSITION,
        {
            "id": made["id"],
            "input": {
                "to": "NEEDS_INFO",
                "expectedVersion": 1,
                "note": "Pelapor tetangga Pak Kades.",
                "publicNote": "Mohon lampirkan foto lokasi.",
            },
        },
        cast.headers["officer_in_scope"],
    )
    assert body["data"]["aspirationTransition"]["userErrors"] == []
    # when: anyone follows the ticket
    tracked = await execute(
        client,
        QUERY_ASPIRATION_TRACK.replace("history {", "statusNote history {"),
        {"ticket": made["ticket"]},
    )
    # then
    found = tracked["data"]["aspirationTrack"]
    assert found["statusNote"] == "Mohon lampirkan foto lokasi."
    assert [(h["to"], h["note"], h["publicNote"]) for h in found["history"]] == [
        ("SUBMITTED", None, None),
        ("NEEDS_INFO", None, "Mohon lampirkan foto lokasi."),
    ]
    assert decode_id("Aspiration", made["id"]) is not None
