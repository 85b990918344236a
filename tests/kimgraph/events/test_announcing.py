"""Every change that logs an event rings the bus exactly once, after its commit.

The app polls the log only once a minute, and its lifespan (poll, timer loop) is
not even started: only the change itself can ring. The recording bus checks, at
the moment of each ring and through a connection of its own, that the event is
already committed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio

from kimgraph import announcements, aspirations, models
from kimgraph.announcements.timers import TIMER_EXPIRE, TIMER_PUBLISH
from kimgraph.app import create_app
from kimgraph.aspirations.records import TIMER_ARCHIVE, TIMER_OVERDUE, TIMER_RESOLVE
from kimgraph.clock import FixedClock
from kimgraph.cursors import encode_id
from kimgraph.live.hub import Hub
from kimgraph.settings import Settings
from kimgraph.timers import TimerLoop
from tests.conftest import execute
from tests.kimgraph.events.doorbells import RecordingBus, Ring
from tests.people import HOME_DESA, Cast, snapshot

# Far longer than any test: a ring that was forgotten is not covered by a poll.
POLL_SECONDS = 60.0
SIBLING_DESA = "61.04.16.2007"
KECAMATAN = "61.04.16"
# Two weeks after the test clock's start: every timer set up below is due.
LATER = datetime(2026, 12, 12, 1, 0, tzinfo=UTC)
HANDLERS = {**announcements.TIMER_HANDLERS, **aspirations.TIMER_HANDLERS}
# Their domain functions take no doorbell, so they cannot log an event: only a
# log.transaction() appends one, and it needs a doorbell.
MUTATIONS_WITHOUT_EVENTS = {
    "tokenCreate",
    "tokenRevoke",
    "kimRegister",
    "kimUpdate",
    "kimMemberAdd",
    "kimMemberRemove",
    "accountDeactivate",
    "accountReactivate",
    "accountPasswordReset",
    "accountRoleChange",
    "accountOfficeSet",
    "accountPasswordChange",
    "warningReviewDismiss",
    "unitCreate",
    "unitUpdate",
    "unitMemberAdd",
    "unitMemberRemove",
    "unitArchive",
    "webhookCreate",
    "webhookUpdate",
    "webhookDisable",
    "webhookEnable",
    "webhookDelete",
    "aspirationReporterKeyReissue",
}
# Publishes through kimgraph.announcements.commands, whose doorbell parameter is
# typed (so it cannot forget to ring); its events are checked in
# tests/resolvers/warnings/test_reviews.py, not with the calls below.
MUTATIONS_RINGING_ELSEWHERE = {"warningReviewPublish"}

MUTATION_ANNOUNCEMENT_PUBLISH = """
mutation ($input: AnnouncementPublishInput!) {
  announcementPublish(input: $input) { announcement { id } userErrors { code } }
}
"""
MUTATION_ANNOUNCEMENT_UPDATE = """
mutation ($id: ID!, $input: AnnouncementUpdateInput!) {
  announcementUpdate(id: $id, input: $input) {
    announcement { id } userErrors { code }
  }
}
"""
MUTATION_ANNOUNCEMENT_WITHDRAW = """
mutation ($id: ID!, $reason: String!) {
  announcementWithdraw(id: $id, reason: $reason) {
    announcement { id } userErrors { code }
  }
}
"""
MUTATION_ANNOUNCEMENT_RELAY = """
mutation ($id: ID!, $targets: [String!]!) {
  announcementRelay(id: $id, targets: $targets) {
    announcement { id } userErrors { code }
  }
}
"""
MUTATION_ASPIRATION_SUBMIT = """
mutation ($input: AspirationSubmitInput!) {
  aspirationSubmit(input: $input) { aspiration { id } userErrors { code } }
}
"""
MUTATION_ASPIRATION_TRANSITION = """
mutation ($id: ID!, $input: AspirationTransitionInput!) {
  aspirationTransition(id: $id, input: $input) {
    aspiration { id } userErrors { code }
  }
}
"""
MUTATION_ASPIRATION_RESPOND = """
mutation ($id: ID!, $input: AspirationRespondInput!) {
  aspirationRespond(id: $id, input: $input) { aspiration { id } userErrors { code } }
}
"""
MUTATION_ASPIRATION_MODERATE = """
mutation ($id: ID!, $input: AspirationModerateInput!) {
  aspirationModerate(id: $id, input: $input) {
    aspiration { id } userErrors { code }
  }
}
"""
MUTATION_ASPIRATION_REPORTER_STEP = """
mutation ($input: AspirationReporterStepInput!) {
  aspirationReporterStep(input: $input) { aspiration { id } userErrors { code } }
}
"""
QUERY_MUTATIONS = "{ __schema { mutationType { fields { name } } } }"

Variables = Callable[[Cast], dict[str, Any]]


@dataclass(frozen=True)
class Call:
    """One mutation call: its field, its document, who calls, with what."""

    field: str
    document: str
    variables: Variables
    principal: str = "officer_in_scope"

    def __str__(self) -> str:
        return self.field


def home_announcement(cast: Cast) -> str:
    return encode_id("Announcement", str(cast.home_announcement.id))


def other_announcement(cast: Cast) -> str:
    return encode_id("Announcement", str(cast.other_announcement.id))


def home_aspiration(cast: Cast) -> str:
    return encode_id("Aspiration", str(cast.home_aspiration.id))


def announcement_draft(**extra: Any) -> dict[str, Any]:
    draft: dict[str, Any] = {
        "title": "Kerja bakti",
        "body": "Kerja bakti membersihkan parit hari Minggu.",
        "category": "SOCIAL",
        "targets": [HOME_DESA],
    }
    return {"input": draft | extra}


def aspiration_draft(**extra: Any) -> dict[str, Any]:
    draft: dict[str, Any] = {
        "region": HOME_DESA,
        "title": "Lampu jalan padam",
        "description": "Lampu jalan di simpang pasar padam seminggu.",
        "category": "INFRASTRUCTURE",
    }
    return {"input": draft | extra}


# Each logs one event.
LOGGING_CALLS = [
    Call(
        "announcementPublish",
        MUTATION_ANNOUNCEMENT_PUBLISH,
        lambda cast: announcement_draft(),
    ),
    Call(
        "announcementUpdate",
        MUTATION_ANNOUNCEMENT_UPDATE,
        lambda cast: {
            "id": home_announcement(cast),
            "input": {"expectedRevision": 1, "title": "Posyandu diundur"},
        },
    ),
    Call(
        "announcementWithdraw",
        MUTATION_ANNOUNCEMENT_WITHDRAW,
        lambda cast: {"id": home_announcement(cast), "reason": "Batal"},
    ),
    Call(
        "announcementRelay",
        MUTATION_ANNOUNCEMENT_RELAY,
        lambda cast: {"id": other_announcement(cast), "targets": [SIBLING_DESA]},
    ),
    Call(
        "aspirationSubmit",
        MUTATION_ASPIRATION_SUBMIT,
        lambda cast: aspiration_draft(),
        principal="kim_home",
    ),
    Call(
        "aspirationTransition",
        MUTATION_ASPIRATION_TRANSITION,
        lambda cast: {
            "id": home_aspiration(cast),
            "input": {"to": "VERIFIED", "expectedVersion": 1},
        },
    ),
    Call(
        "aspirationReporterStep",
        MUTATION_ASPIRATION_REPORTER_STEP,
        lambda cast: {
            "input": {
                "ticket": cast.home_aspiration.ticket,
                "key": cast.home_reporter_key,
                "action": "WITHDRAW",
            }
        },
        principal="anonymous",
    ),
    Call(
        "aspirationRespond",
        MUTATION_ASPIRATION_RESPOND,
        lambda cast: {
            "id": home_aspiration(cast),
            "input": {"message": "Tim survei datang Senin.", "public": True},
        },
    ),
    Call(
        "aspirationModerate",
        MUTATION_ASPIRATION_MODERATE,
        lambda cast: {
            "id": home_aspiration(cast),
            "input": {"hidden": True, "reason": "Memuat data pribadi"},
        },
    ),
]
# Each fails with this userError code, and so changes (and logs) nothing.
REFUSED_CALLS = [
    (
        Call(
            "announcementPublish",
            MUTATION_ANNOUNCEMENT_PUBLISH,
            lambda cast: announcement_draft(title="   "),
        ),
        "INVALID",
    ),
    (
        # Refused inside the transaction, by the conditional update: a rollback.
        Call(
            "announcementUpdate",
            MUTATION_ANNOUNCEMENT_UPDATE,
            lambda cast: {
                "id": home_announcement(cast),
                "input": {"expectedRevision": 0, "title": "Posyandu diundur"},
            },
        ),
        "CONFLICT",
    ),
    (
        Call(
            "announcementWithdraw",
            MUTATION_ANNOUNCEMENT_WITHDRAW,
            lambda cast: {"id": home_announcement(cast), "reason": " "},
        ),
        "INVALID",
    ),
    (
        Call(
            "announcementRelay",
            MUTATION_ANNOUNCEMENT_RELAY,
            lambda cast: {"id": home_announcement(cast), "targets": [HOME_DESA]},
        ),
        "INVALID",
    ),
    (
        Call(
            "aspirationSubmit",
            MUTATION_ASPIRATION_SUBMIT,
            lambda cast: aspiration_draft(region=KECAMATAN),
            principal="kim_home",
        ),
        "INVALID",
    ),
    (
        Call(
            "aspirationTransition",
            MUTATION_ASPIRATION_TRANSITION,
            lambda cast: {
                "id": home_aspiration(cast),
                "input": {"to": "VERIFIED", "expectedVersion": 7},
            },
        ),
        "CONFLICT",
    ),
    (
        Call(
            "aspirationReporterStep",
            MUTATION_ASPIRATION_REPORTER_STEP,
            lambda cast: {
                "input": {
                    "ticket": cast.home_aspiration.ticket,
                    "key": "2222-2222-2222-2222",
                    "action": "WITHDRAW",
                }
            },
            principal="anonymous",
        ),
        "INVALID_CREDENTIALS",
    ),
    (
        Call(
            "aspirationRespond",
            MUTATION_ASPIRATION_RESPOND,
            lambda cast: {"id": home_aspiration(cast), "input": {"message": " "}},
        ),
        "INVALID",
    ),
    (
        Call(
            "aspirationModerate",
            MUTATION_ASPIRATION_MODERATE,
            lambda cast: {"id": home_aspiration(cast), "input": {"hidden": True}},
        ),
        "INVALID",
    ),
]


@dataclass(frozen=True)
class Due:
    """A timer kind, the calls that set one up, and the event it logs when fired."""

    kind: str
    setup: list[Call]
    event_kind: str

    def __str__(self) -> str:
        return self.kind


def step(to: str, version: int, **extra: Any) -> Call:
    return Call(
        "aspirationTransition",
        MUTATION_ASPIRATION_TRANSITION,
        lambda cast: {
            "id": home_aspiration(cast),
            "input": {"to": to, "expectedVersion": version, **extra},
        },
    )


# The cast's aspiration is due for verification on 2 December: withdrawn, its
# OVERDUE timer is gone and an announcement's timer is the only one due.
WITHDRAW = step("WITHDRAWN", 1)
TIMERS = [
    Due(
        TIMER_PUBLISH,
        [
            WITHDRAW,
            Call(
                "announcementPublish",
                MUTATION_ANNOUNCEMENT_PUBLISH,
                lambda cast: announcement_draft(validFrom="2026-11-28T09:00:00Z"),
            ),
        ],
        "PUBLISHED",
    ),
    Due(
        TIMER_EXPIRE,
        [
            WITHDRAW,
            Call(
                "announcementPublish",
                MUTATION_ANNOUNCEMENT_PUBLISH,
                lambda cast: announcement_draft(validUntil="2026-11-28T09:00:00Z"),
            ),
        ],
        "EXPIRED",
    ),
    # Nothing to set up: the cast's aspiration is never verified.
    Due(TIMER_OVERDUE, [], "OVERDUE"),
    Due(
        TIMER_ARCHIVE,
        [
            step(
                "NEEDS_INFO",
                1,
                note="Mohon lampirkan foto lokasi.",
                publicNote="Mohon lampirkan foto lokasi.",
            )
        ],
        "TRANSITIONED",
    ),
    Due(
        TIMER_RESOLVE,
        [
            step("VERIFIED", 1),
            step("DISPOSED", 2, assignedUnit="Dinas PUPR"),
            step("RESPONDED", 3, publicNote="Perbaikan minggu depan."),
        ],
        "TRANSITIONED",
    ),
]


@pytest.fixture
def bus(ketapang: str) -> RecordingBus:
    return RecordingBus(ketapang)


@pytest_asyncio.fixture
async def client(
    ketapang: str, clock: FixedClock, bus: RecordingBus
) -> AsyncIterator[httpx.AsyncClient]:
    """The app on the recording bus, polling the log once a minute."""
    settings = Settings(database_url=ketapang, event_poll_seconds=POLL_SECONDS)
    app = create_app(settings, clock, bus=bus)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def call(client: httpx.AsyncClient, cast: Cast, made: Call) -> dict[str, Any]:
    """Make the call; its payload."""
    body = await execute(
        client, made.document, made.variables(cast), cast.headers[made.principal]
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"][made.field]
    return payload


async def logged_after(position: int) -> list[int]:
    """The ids of the events after a position."""
    return [e.id for e in await models.Event.filter(id__gt=position).order_by("id")]


async def newest_event() -> int:
    newest = await models.Event.all().order_by("-id").first()
    return newest.id if newest is not None else 0


@pytest.mark.parametrize("made", LOGGING_CALLS, ids=str)
async def test_a_mutation_that_logs_an_event_rings_once_after_its_commit(
    client: httpx.AsyncClient, cast: Cast, bus: RecordingBus, made: Call
) -> None:
    # given
    before = await newest_event()
    # when
    payload = await call(client, cast, made)
    # then: one event, and one ring with its id, which was committed by then
    assert payload["userErrors"] == []
    logged = await logged_after(before)
    assert len(logged) == 1
    assert bus.rings == [Ring(logged[0], committed=True)]


@pytest.mark.parametrize(("made", "code"), REFUSED_CALLS, ids=str)
async def test_a_refused_mutation_rings_nothing(
    client: httpx.AsyncClient, cast: Cast, bus: RecordingBus, made: Call, code: str
) -> None:
    # given
    before = await snapshot()
    # when
    payload = await call(client, cast, made)
    # then
    assert payload["userErrors"] == [{"code": code}]
    assert await snapshot() == before
    assert bus.rings == []


async def test_a_scheduled_publication_logs_nothing_yet_and_rings_nothing(
    client: httpx.AsyncClient, cast: Cast, bus: RecordingBus
) -> None:
    # given
    before = await newest_event()
    # when: published for later, then relayed before it starts
    published = await call(
        client,
        cast,
        Call(
            "announcementPublish",
            MUTATION_ANNOUNCEMENT_PUBLISH,
            lambda cast: announcement_draft(validFrom="2026-11-28T09:00:00Z"),
        ),
    )
    relayed = await call(
        client,
        cast,
        Call(
            "announcementRelay",
            MUTATION_ANNOUNCEMENT_RELAY,
            lambda cast: {
                "id": published["announcement"]["id"],
                "targets": [SIBLING_DESA],
            },
        ),
    )
    # then
    assert (published["userErrors"], relayed["userErrors"]) == ([], [])
    assert await logged_after(before) == []
    assert bus.rings == []


async def test_every_mutation_is_known_to_ring_or_to_log_nothing(
    client: httpx.AsyncClient,
) -> None:
    # A new mutation must join the calls above, or the list of those without events.
    body = await execute(client, QUERY_MUTATIONS)
    fields = {f["name"] for f in body["data"]["__schema"]["mutationType"]["fields"]}
    logging = {made.field for made in LOGGING_CALLS}
    assert {made.field for made, _ in REFUSED_CALLS} == logging
    assert logging.isdisjoint(MUTATIONS_WITHOUT_EVENTS)
    assert fields == logging | MUTATIONS_WITHOUT_EVENTS | MUTATIONS_RINGING_ELSEWHERE


@pytest.mark.parametrize("due", TIMERS, ids=str)
async def test_a_timer_that_logs_an_event_rings_once_after_its_commit(
    client: httpx.AsyncClient,
    cast: Cast,
    bus: RecordingBus,
    clock: FixedClock,
    due: Due,
) -> None:
    # given: a timer of this kind, set up through the API, and the timer loop
    # wired as kimgraph.app wires it (to the hub's announce)
    for made in due.setup:
        assert (await call(client, cast, made))["userErrors"] == []
    loop = TimerLoop(clock, Hub(bus, {}).announce, HANDLERS)
    before = await newest_event()
    bus.rings.clear()
    # when: its time has come
    clock.advance(LATER - clock.now())
    await loop.tick()
    # then: it fired, logged one event and rang once with it, after the commit
    fired = await models.Timer.filter(fired_at__isnull=False)
    assert [timer.kind for timer in fired] == [due.kind]
    logged = await models.Event.filter(id__gt=before)
    assert [e.kind for e in logged] == [due.event_kind]
    assert bus.rings == [Ring(logged[0].id, committed=True)]


async def test_a_timer_that_logs_nothing_rings_nothing(
    client: httpx.AsyncClient, bus: RecordingBus, clock: FixedClock
) -> None:
    # given: nothing due, then a due timer whose announcement does not exist
    loop = TimerLoop(clock, Hub(bus, {}).announce, HANDLERS)
    await loop.tick()
    await models.Timer.create(kind=TIMER_PUBLISH, entity_id=0, due_at=clock.now())
    before = await newest_event()
    # when
    await loop.tick()
    # then: claimed, but nothing logged and nothing rung
    assert await models.Timer.filter(fired_at=None).count() == 0
    assert await logged_after(before) == []
    assert bus.rings == []


def test_every_timer_kind_is_covered() -> None:
    assert {due.kind for due in TIMERS} == set(HANDLERS)
