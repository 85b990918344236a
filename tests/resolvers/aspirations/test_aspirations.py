"""Aspirations: submission, tickets, tracking, scoped reads, responses, moderation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from kimgraph import aspirations, models
from kimgraph.aspirations.submission import TICKET_ALPHABET
from kimgraph.clock import FixedClock
from kimgraph.cursors import encode_id
from kimgraph.rate_limit import MemoryStore, RateLimiter
from tests.conftest import QueryLog, execute
from tests.people import HOME_DESA, OTHER_DESA, REPORTER_CONTACT, Cast, snapshot
from tests.resolvers.aspirations.steps import (
    MUTATION_ASPIRATION_MODERATE,
    MUTATION_ASPIRATION_RESPOND,
    MUTATION_ASPIRATION_SUBMIT,
    QUERY_ASPIRATION,
    QUERY_ASPIRATION_TRACK,
    QUERY_ASPIRATIONS,
    S,
    aspiration_in,
    submit,
)

TICKET = re.compile(r"ASP-6104-2026-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}")


def home_id(cast: Cast) -> str:
    return encode_id("Aspiration", str(cast.home_aspiration.id))


async def test_a_kim_submits_on_a_residents_behalf_and_becomes_the_reporters_kim(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # when: Saturday 28 November 2026, 08:00 WIB
    body = await execute(
        client,
        MUTATION_ASPIRATION_SUBMIT,
        {
            "input": {
                "region": HOME_DESA,
                "title": "  Air   bersih  tidak mengalir ",
                "description": "Sudah tiga hari air PDAM tidak mengalir di RT 05.",
                "category": "PUBLIC_SERVICE",
                "reporterName": "Siti Rahma",
                "reporterContact": "0852-1111-2222",
            }
        },
        cast.headers["kim_home"],
    )
    # then
    payload = body["data"]["aspirationSubmit"]
    ticket = payload["ticket"]
    assert TICKET.fullmatch(ticket), ticket
    aspiration = payload["aspiration"]
    assert aspiration == {
        "id": aspiration["id"],
        "ticket": ticket,
        "title": "Air bersih tidak mengalir",
        "description": "Sudah tiga hari air PDAM tidak mengalir di RT 05.",
        "category": "PUBLIC_SERVICE",
        "status": "SUBMITTED",
        "version": 1,
        "visibility": "CONFIDENTIAL",
        # Verified within 3 working days: Mon, Tue, Wed (the weekend skipped).
        "dueAt": "2026-12-02T16:59:59.999999+00:00",
        "reporterName": "Siti Rahma",
        "reporterContact": "0852-1111-2222",
        "contentWithheld": False,
        "region": {"code": HOME_DESA},
        "kim": {"name": "KIM Suka Bangun"},
        "history": [
            {
                "from": None,
                "to": "SUBMITTED",
                "note": None,
                "publicNote": None,
                "actorName": "Kim Suka Bangun",
                "at": "2026-11-28T01:00:00+00:00",
            }
        ],
    }
    assert payload["userErrors"] == []
    event = await models.Event.all().order_by("-id").first()
    assert event is not None
    assert (event.stream, event.kind, event.regions) == (
        "aspiration",
        "SUBMITTED",
        HOME_DESA,
    )
    # and: the KIM is the reporter's KIM, with the rights that go with it
    read = await execute(
        client, QUERY_ASPIRATION, {"id": aspiration["id"]}, cast.headers["kim_home"]
    )
    assert read["data"]["aspiration"]["reporterContact"] == "0852-1111-2222"


async def test_an_anonymous_citizen_submits_and_sees_only_the_public_view(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # when
    aspiration = await submit(client, cast, "anonymous", visibility="PUBLIC")
    # then
    assert (aspiration["reporterName"], aspiration["reporterContact"]) == (None, None)
    assert aspiration["title"] == "Lampu jalan padam"
    assert aspiration["kim"] is None
    assert aspiration["history"][0]["actorName"] == "anonymous"


def test_tickets_are_random_and_say_nothing_about_each_other() -> None:
    # when
    at = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)  # already 2027 in WIB
    tickets = [aspirations.new_ticket(HOME_DESA, at) for _ in range(2000)]
    # then
    assert all(re.fullmatch(r"ASP-6104-2027-[A-Z0-9]{8}", t) for t in tickets)
    tails = [t.rsplit("-", 1)[1] for t in tickets]
    assert len(set(tails)) == len(tails)
    for position in range(8):
        # Every symbol of the alphabet turns up in every position.
        assert {tail[position] for tail in tails} == set(TICKET_ALPHABET)
    assert not set(TICKET_ALPHABET) & set("01OIL")


async def test_anonymous_submissions_are_rate_limited_per_client(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given: a burst of five from one client
    for _ in range(5):
        await submit(client, cast, "anonymous")
    before = await snapshot()
    # when
    response = await client.post(
        "/graphql",
        json={
            "query": MUTATION_ASPIRATION_SUBMIT,
            "variables": {
                "input": {
                    "region": HOME_DESA,
                    "title": "Keenam",
                    "description": "Satu lagi.",
                    "category": "OTHER",
                }
            },
        },
    )
    # then: 429, with how long to wait (one submission per 6 minutes refills)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "360"
    assert response.json()["data"]["aspirationSubmit"] == {
        "ticket": None,
        "aspiration": None,
        "userErrors": [
            {
                "field": None,
                "code": "RATE_LIMITED",
                "message": "too many aspirations from this client; try again later, "
                "or submit through your KIM",
            }
        ],
    }
    assert await snapshot() == before
    # and: a KIM is not limited, and the client may submit again later
    await submit(client, cast, "kim_home")
    clock.advance(timedelta(minutes=6))
    await submit(client, cast, "anonymous")


async def test_the_rate_limiter_keeps_a_bucket_per_client() -> None:
    # given
    clock = FixedClock(datetime(2026, 11, 28, tzinfo=UTC))
    limiter = RateLimiter(clock, capacity=2, per_second=1 / 60, max_keys=3)

    async def waits(key: str) -> float:
        return (await limiter.acquire(key)).wait

    # when / then
    assert [await waits("10.0.0.1") for _ in range(3)] == [0, 0, pytest.approx(60)]
    assert await waits("10.0.0.2") == 0
    clock.advance(timedelta(seconds=60))
    assert [await waits("10.0.0.1") for _ in range(2)] == [0, pytest.approx(60)]
    # and: memory stays bounded, forgetting full buckets first
    for n in range(3, 10):
        await limiter.acquire(f"10.0.0.{n}")
    assert isinstance(limiter.store, MemoryStore)
    assert len(limiter.store.buckets) <= 3


async def test_every_bad_submission_input_is_reported_and_nothing_changes(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    before = await snapshot()
    secret = "9" * 201
    # when
    body = await execute(
        client,
        MUTATION_ASPIRATION_SUBMIT,
        {
            "input": {
                "region": "61.04.16",
                "title": "   ",
                "description": "x" * 5001,
                "category": "HEALTH",
                "reporterContact": secret,
                "kimId": encode_id("Kim", "999"),
            }
        },
        cast.headers["officer_in_scope"],
    )
    # then
    assert body["data"]["aspirationSubmit"] == {
        "ticket": None,
        "aspiration": None,
        "userErrors": [
            {
                "field": ["input", "region"],
                "code": "INVALID",
                "message": "an aspiration arises in a desa or kelurahan, not a "
                "kecamatan",
            },
            {
                "field": ["input", "title"],
                "code": "INVALID",
                "message": "must have 1-200 characters",
            },
            {
                "field": ["input", "description"],
                "code": "INVALID",
                "message": "must have at most 5000 characters",
            },
            {
                "field": ["input", "reporterContact"],
                "code": "INVALID",
                "message": "must have at most 200 characters",
            },
            {
                "field": ["input", "kimId"],
                "code": "NOT_FOUND",
                "message": "there is no such KIM",
            },
        ],
    }
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("region", "principal", "expected"),
    [
        ("61.4.16", "anonymous", {"top": "INVALID_REGION_CODE"}),
        ("61.04.16.2999", "anonymous", {"user": "NOT_FOUND"}),
        (HOME_DESA, "kim_other_desa", {"user": "OUT_OF_SCOPE"}),
        (OTHER_DESA, "partner", {"user": "allow"}),
    ],
)
async def test_where_an_aspiration_may_be_submitted(
    client: httpx.AsyncClient,
    cast: Cast,
    region: str,
    principal: str,
    expected: dict[str, str],
) -> None:
    body = await execute(
        client,
        MUTATION_ASPIRATION_SUBMIT,
        {
            "input": {
                "region": region,
                "title": "Jembatan rusak",
                "description": "Jembatan kayu di dusun II rusak.",
                "category": "INFRASTRUCTURE",
            }
        },
        cast.headers[principal],
    )
    if "top" in expected:
        assert [e["extensions"]["code"] for e in body["errors"]] == [expected["top"]]
        return
    errors = body["data"]["aspirationSubmit"]["userErrors"]
    assert [e["code"] for e in errors] == (
        [] if expected["user"] == "allow" else [expected["user"]]
    )


# Each principal's view of the home aspiration (CONFIDENTIAL, collected by the
# home KIM): None where it is out of reach.
VIEWS: dict[str, tuple[str, str | None] | None] = {
    "anonymous": None,
    "partner": ("(rahasia)", None),
    "kim_other_desa": None,
    "officer_out_of_scope": None,
    "officer_in_scope": ("Jalan berlubang di RT 03", REPORTER_CONTACT),
    "admin": ("Jalan berlubang di RT 03", REPORTER_CONTACT),
    "kim_home": ("Jalan berlubang di RT 03", REPORTER_CONTACT),
}


@pytest.mark.parametrize("principal", list(VIEWS))
async def test_an_aspiration_by_id_within_scope_and_personal_data_by_right(
    client: httpx.AsyncClient, cast: Cast, principal: str
) -> None:
    body = await execute(
        client, QUERY_ASPIRATION, {"id": home_id(cast)}, cast.headers[principal]
    )
    aspiration = body["data"]["aspiration"]
    view = VIEWS[principal]
    if view is None:
        assert body == {"data": {"aspiration": None}}
        return
    assert (aspiration["title"], aspiration["reporterContact"]) == view
    assert aspiration["reporterName"] == (
        "Budi Santoso" if view[1] is not None else None
    )


async def test_tracking_shows_status_and_public_notes_but_nothing_private(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: a CONFIDENTIAL aspiration answered publicly and internally
    aspiration_id, _ = await aspiration_in(client, cast, S.RESPONDED)
    for message, public in (
        ("Tim sudah ke lokasi.", True),
        ("Anggaran P-APBD.", False),
    ):
        await execute(
            client,
            MUTATION_ASPIRATION_RESPOND,
            {"id": aspiration_id, "input": {"message": message, "public": public}},
            cast.headers["officer_in_scope"],
        )
    staff = await execute(
        client, QUERY_ASPIRATION, {"id": aspiration_id}, cast.headers["admin"]
    )
    ticket = staff["data"]["aspiration"]["ticket"]
    # when: anyone tracks it, typing the ticket in lower case
    body = await execute(client, QUERY_ASPIRATION_TRACK, {"ticket": ticket.lower()})
    # then
    tracked = body["data"]["aspirationTrack"]
    assert tracked | {"dueAt": None} == {
        "ticket": ticket,
        "title": "(rahasia)",
        "description": "(rahasia)",
        "category": "INFRASTRUCTURE",
        "status": "RESPONDED",
        "version": 5,
        "visibility": "CONFIDENTIAL",
        "hidden": False,
        "contentWithheld": True,
        "assignedUnit": "Dinas PUPR",
        "dueAt": None,
        "overdue": False,
        "reporterName": None,
        "reporterContact": None,
        "region": {"code": HOME_DESA},
        "kim": {"name": "KIM Suka Bangun"},
        "duplicateOf": None,
        "history": [
            {
                "from": None,
                "to": "SUBMITTED",
                "note": None,
                "publicNote": None,
                "assignedUnit": None,
                "actorName": "Kim Suka Bangun",
            },
            {
                "from": "SUBMITTED",
                "to": "VERIFIED",
                "note": None,
                "publicNote": None,
                "assignedUnit": None,
                "actorName": "Camat Delta Pawan",
            },
            {
                "from": "VERIFIED",
                "to": "DISPOSED",
                "note": None,
                "publicNote": None,
                "assignedUnit": "Dinas PUPR",
                "actorName": "Camat Delta Pawan",
            },
            {
                "from": "DISPOSED",
                "to": "IN_PROGRESS",
                "note": None,
                "publicNote": None,
                "assignedUnit": None,
                "actorName": "Camat Delta Pawan",
            },
            {
                "from": "IN_PROGRESS",
                "to": "RESPONDED",
                "note": None,
                "publicNote": "Perbaikan dijadwalkan minggu depan.",
                "assignedUnit": None,
                "actorName": "Camat Delta Pawan",
            },
        ],
        "responses": [],
    }
    assert tracked["dueAt"] is not None
    assert await execute(client, QUERY_ASPIRATION_TRACK, {"ticket": "ASP-X"}) == {
        "data": {"aspirationTrack": None}
    }


async def test_responses_are_public_or_internal(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: a PUBLIC aspiration
    aspiration = await submit(client, cast, visibility="PUBLIC")
    # when
    for message, public in (("Akan dicek Senin.", True), ("Koordinasi PLN.", False)):
        body = await execute(
            client,
            MUTATION_ASPIRATION_RESPOND,
            {"id": aspiration["id"], "input": {"message": message, "public": public}},
            cast.headers["officer_in_scope"],
        )
        assert body["data"]["aspirationRespond"]["response"] == {
            "message": message,
            "public": public,
            "authorName": "Camat Delta Pawan",
        }
    # then
    seen = {}
    for who in ("officer_in_scope", "kim_home", "partner"):
        read = await execute(
            client, QUERY_ASPIRATION, {"id": aspiration["id"]}, cast.headers[who]
        )
        seen[who] = [r["message"] for r in read["data"]["aspiration"]["responses"]]
    track = await execute(
        client, QUERY_ASPIRATION_TRACK, {"ticket": aspiration["ticket"]}
    )
    seen["anonymous"] = [
        r["message"] for r in track["data"]["aspirationTrack"]["responses"]
    ]
    assert seen == {
        "officer_in_scope": ["Akan dicek Senin.", "Koordinasi PLN."],
        "kim_home": ["Akan dicek Senin."],
        "partner": ["Akan dicek Senin."],
        "anonymous": ["Akan dicek Senin."],
    }
    assert track["data"]["aspirationTrack"]["status"] == "SUBMITTED"


@pytest.mark.parametrize(
    ("principal", "code"),
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("partner", "FORBIDDEN"),
        ("kim_home", "FORBIDDEN"),
        ("officer_out_of_scope", "NOT_FOUND"),
    ],
)
async def test_only_officers_in_scope_and_admins_respond(
    client: httpx.AsyncClient, cast: Cast, principal: str, code: str
) -> None:
    before = await snapshot()
    body = await execute(
        client,
        MUTATION_ASPIRATION_RESPOND,
        {"id": home_id(cast), "input": {"message": "Baik."}},
        cast.headers[principal],
    )
    errors = body.get("errors") or body["data"]["aspirationRespond"]["userErrors"]
    assert [e.get("code") or e["extensions"]["code"] for e in errors] == [code]
    assert await snapshot() == before


async def test_hiding_withholds_the_content_and_leaves_the_status(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    aspiration = await submit(client, cast, visibility="PUBLIC")
    # when
    body = await execute(
        client,
        MUTATION_ASPIRATION_MODERATE,
        {"id": aspiration["id"], "input": {"hidden": True, "reason": "Kata kasar"}},
        cast.headers["officer_in_scope"],
    )
    # then
    assert body["data"]["aspirationModerate"] == {
        "aspiration": {
            "status": "SUBMITTED",
            "version": 1,
            "hidden": True,
            "title": "Lampu jalan padam",
            "contentWithheld": False,
        },
        "userErrors": [],
    }
    track = await execute(
        client, QUERY_ASPIRATION_TRACK, {"ticket": aspiration["ticket"]}
    )
    tracked = track["data"]["aspirationTrack"]
    assert (tracked["title"], tracked["description"], tracked["status"]) == (
        "(disembunyikan moderator)",
        "(disembunyikan moderator)",
        "SUBMITTED",
    )
    # and: hiding needs a reason, and only officers and admins moderate
    refused = await execute(
        client,
        MUTATION_ASPIRATION_MODERATE,
        {"id": aspiration["id"], "input": {"hidden": True}},
        cast.headers["admin"],
    )
    assert refused["data"]["aspirationModerate"]["userErrors"] == [
        {
            "field": ["input", "reason"],
            "code": "INVALID",
            "message": "a reason is required to hide an aspiration",
        }
    ]
    forbidden = await execute(
        client,
        MUTATION_ASPIRATION_MODERATE,
        {"id": aspiration["id"], "input": {"hidden": False}},
        cast.headers["kim_home"],
    )
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def titles(body: dict[str, Any]) -> list[str]:
    return [e["node"]["title"] for e in body["data"]["aspirations"]["edges"]]


async def test_lists_stay_within_the_viewers_scope(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    await submit(client, cast, title="Kedua", visibility="ANONYMOUS")
    await submit(client, cast, "kim_other_desa", region=OTHER_DESA, title="Di Padang")
    # when
    bodies = {
        who: await execute(client, QUERY_ASPIRATIONS, {}, cast.headers[who])
        for who in ("officer_in_scope", "officer_out_of_scope", "partner", "admin")
    }
    # then: newest first, each viewer its own scope
    assert titles(bodies["officer_in_scope"]) == ["Kedua", "Jalan berlubang di RT 03"]
    assert titles(bodies["officer_out_of_scope"]) == ["Di Padang"]
    assert titles(bodies["admin"]) == [
        "Di Padang",
        "Kedua",
        "Jalan berlubang di RT 03",
    ]
    assert titles(bodies["partner"]) == ["(rahasia)", "Kedua", "(rahasia)"]
    assert [
        e["node"]["reporterContact"]
        for e in bodies["partner"]["data"]["aspirations"]["edges"]
    ] == [None, None, None]


@pytest.mark.parametrize(
    ("principal", "variables", "code"),
    [
        ("anonymous", {}, "UNAUTHENTICATED"),
        ("officer_in_scope", {"region": "61.04"}, "FORBIDDEN"),
        ("kim_home", {"region": "61.04.16"}, "FORBIDDEN"),
        ("admin", {"region": "61.04.99"}, "NOT_FOUND"),
        ("admin", {"region": "61.04.1"}, "INVALID_REGION_CODE"),
    ],
)
async def test_list_arguments_outside_the_scope_are_errors(
    client: httpx.AsyncClient,
    cast: Cast,
    principal: str,
    variables: dict[str, str],
    code: str,
) -> None:
    body = await execute(client, QUERY_ASPIRATIONS, variables, cast.headers[principal])
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]


async def test_lists_filter_by_status_and_kim_and_page_by_cursor(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    await aspiration_in(client, cast, S.VERIFIED)
    await submit(client, cast, "officer_in_scope", title="Tanpa KIM")
    # when
    verified = await execute(
        client, QUERY_ASPIRATIONS, {"status": ["VERIFIED"]}, cast.headers["admin"]
    )
    by_kim = await execute(
        client,
        QUERY_ASPIRATIONS,
        {"kimId": encode_id("Kim", str(cast.home_kim.id))},
        cast.headers["admin"],
    )
    first = await execute(
        client, QUERY_ASPIRATIONS, {"first": 1}, cast.headers["admin"]
    )
    page = first["data"]["aspirations"]["pageInfo"]
    second = await execute(
        client,
        QUERY_ASPIRATIONS,
        {"first": 1, "after": page["endCursor"]},
        cast.headers["admin"],
    )
    # then
    assert titles(verified) == ["Lampu jalan padam"]
    assert titles(by_kim) == ["Lampu jalan padam", "Jalan berlubang di RT 03"]
    assert (titles(first), page["hasNextPage"]) == (["Tanpa KIM"], True)
    assert titles(second) == ["Lampu jalan padam"]
    assert first["data"]["aspirations"]["totalCount"] == 3


async def test_a_list_with_history_and_responses_takes_the_same_queries_for_more(
    client: httpx.AsyncClient, cast: Cast, sql_log: QueryLog
) -> None:
    # given
    query = """
    { aspirations(first: 100) { edges { node {
        title region { name } kim { name } history { to } responses { message }
    } } } }
    """
    counts = []
    for _ in range(2):
        for _ in range(3):
            await submit(client, cast)
        sql_log.statements.clear()
        # when
        body = await execute(client, query, headers=cast.headers["admin"])
        assert "errors" not in body
        counts.append(len(sql_log.statements))
    # then
    assert counts[0] == counts[1]
