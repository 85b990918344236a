"""aspirationSubmit: a new aspiration with an unguessable public ticket."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from kimgraph import models
from kimgraph.accounts.auth import digest
from kimgraph.accounts.authorization import in_scope
from kimgraph.accounts.principals import Principal, Role
from kimgraph.aspirations import workdays
from kimgraph.aspirations.deadline_rules import Deadline
from kimgraph.aspirations.records import (
    EventKind,
    Outcome,
    log_event,
    schedule_deadline,
)
from kimgraph.aspirations.text import checked_text
from kimgraph.clock import Clock
from kimgraph.errors import Problem, ProblemCode, UserInputError
from kimgraph.events import log
from kimgraph.events.bus import Doorbell
from kimgraph.models import AspirationCategory, AspirationVisibility
from kimgraph.models.aspirations import AspirationStatus
from kimgraph.models.regions import RegionLevel
from kimgraph.rate_limit import LimitStore, RateLimiter
from kimgraph.regions.codes import is_within, validate

# No 0/O, 1/I/L: a ticket is read out over the phone and copied by hand.
TICKET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# 31**8 ≈ 8.5e11 tickets per kabupaten and year: drawn at random (secrets), one
# ticket tells nothing about another, and guessing one is hopeless.
TICKET_RANDOM_LENGTH = 8
# The reporter key: 16 characters of the same alphabet, about 79 bits, read out
# in four groups of four (7KQ3-MXD9-ABCD-EFGH).
KEY_LENGTH = 16
KEY_GROUP = 4
MAX_TITLE = 200
MAX_DESCRIPTION = 5_000
MAX_PERSONAL = 200
SUBMISSION_LEVELS = (RegionLevel.DESA, RegionLevel.KELURAHAN)
# Anonymous submissions per client address (an IPv6 /64): a burst of 5, then
# 10 an hour (docs/domain.md, "Limits"); a KIM account is not limited.
SUBMISSION_BURST = 5
SUBMISSIONS_PER_HOUR = 10


@dataclass(frozen=True, slots=True)
class Submission:
    """The input of aspirationSubmit."""

    region: str
    title: str
    description: str
    category: AspirationCategory
    reporter_name: str | None = None
    reporter_contact: str | None = None
    visibility: AspirationVisibility = AspirationVisibility.CONFIDENTIAL
    kim_id: int | None = None


def new_ticket(region_code: str, at: datetime) -> str:
    """A fresh ticket like ASP-6104-2026-7KQ3MXD9: kabupaten, year (WIB), random."""
    kabupaten = "".join(region_code.split(".")[:2])
    year = at.astimezone(workdays.ZONE).year
    tail = "".join(secrets.choice(TICKET_ALPHABET) for _ in range(TICKET_RANDOM_LENGTH))
    return f"ASP-{kabupaten}-{year}-{tail}"


def new_reporter_key() -> str:
    """A fresh reporter key like 7KQ3-MXD9-ABCD-EFGH, drawn with secrets."""
    raw = "".join(secrets.choice(TICKET_ALPHABET) for _ in range(KEY_LENGTH))
    return "-".join(raw[i : i + KEY_GROUP] for i in range(0, KEY_LENGTH, KEY_GROUP))


def key_digest(key: str) -> str:
    """The stored form of a reporter key as typed: any case, dashes or none.

    Random like tokens and API keys, so SHA-256 suffices (kimgraph.accounts.auth).
    """
    return digest("".join(key.split()).replace("-", "").upper())


def normalize_ticket(ticket: str) -> str:
    """A ticket as typed (any case, spaces around) in its stored form."""
    return ticket.strip().upper()


async def _region(
    principal: Principal, code: str, problems: list[Problem]
) -> models.Region | None:
    region = await models.Region.get_or_none(code=validate(code))
    field = ["input", "region"]
    if region is None:
        problems.append(
            Problem(
                ProblemCode.NOT_FOUND, f"there is no region with code {code}", field
            )
        )
        return None
    if region.level not in SUBMISSION_LEVELS:
        problems.append(
            Problem(
                ProblemCode.INVALID,
                f"an aspiration arises in a desa or kelurahan, not a {region.level}",
                field,
            )
        )
    elif principal.role in (Role.KIM, Role.PARTNER) and not in_scope(principal, code):
        problems.append(
            Problem(
                ProblemCode.OUT_OF_SCOPE,
                f"region {code} lies outside your region {principal.region_code}",
                field,
            )
        )
    return region


async def _collecting_kim(
    principal: Principal,
    kim_id: int | None,
    region: models.Region | None,
    problems: list[Problem],
) -> models.Kim | None:
    field = ["input", "kimId"]
    if principal.role is Role.KIM:
        if kim_id is not None and kim_id != principal.kim_id:
            problems.append(
                Problem(ProblemCode.OUT_OF_SCOPE, "a KIM submits as itself", field)
            )
        return await models.Kim.get_or_none(id=principal.kim_id)
    if kim_id is None:
        return None
    kim = await models.Kim.get_or_none(id=kim_id)
    if kim is None:
        problems.append(Problem(ProblemCode.NOT_FOUND, "there is no such KIM", field))
    elif region is not None and not is_within(region.code, kim.region_id):
        problems.append(
            Problem(
                ProblemCode.INVALID,
                f"that KIM does not serve region {region.code}",
                field,
            )
        )
    return kim


def submission_limiter(clock: Clock, store: LimitStore | None = None) -> RateLimiter:
    """The limiter of anonymous submissions; with Redis's store, shared by all."""
    return RateLimiter(
        clock,
        capacity=SUBMISSION_BURST,
        per_second=SUBMISSIONS_PER_HOUR / 3600,
        store=store,
        name="aspiration",
    )


def rate_limited() -> UserInputError:
    """The userError of a client that submitted too often."""
    return UserInputError(
        Problem(
            ProblemCode.RATE_LIMITED,
            "too many aspirations from this client; try again later, or submit "
            "through your KIM",
            None,
        )
    )


async def submit(
    clock: Clock,
    doorbell: Doorbell,
    principal: Principal,
    submission: Submission,
    *,
    limiter: RateLimiter | None = None,
    client_key: str = "unknown",
) -> Outcome:
    """Record a new aspiration; anonymous callers spend one token of their client.

    The token is spent before the input is checked, in one step (shared by all
    processes when the limiter's store is Redis), so concurrent submissions
    cannot outrun the limit.
    """
    if principal.is_anonymous and limiter:
        taken = await limiter.acquire(client_key)
        if not taken.allowed:
            raise rate_limited()
    problems: list[Problem] = []
    region = await _region(principal, submission.region, problems)
    title = checked_text(submission.title, MAX_TITLE, "title", problems, required=True)
    description = checked_text(
        submission.description, MAX_DESCRIPTION, "description", problems, required=True
    )
    reporter_name = checked_text(
        submission.reporter_name, MAX_PERSONAL, "reporterName", problems
    )
    reporter_contact = checked_text(
        submission.reporter_contact, MAX_PERSONAL, "reporterContact", problems
    )
    kim = await _collecting_kim(principal, submission.kim_id, region, problems)
    if problems:
        raise UserInputError(*problems)
    assert region is not None, "no problems means a region"
    assert title is not None, "no problems means a title"
    assert description is not None, "no problems means a description"
    now = clock.now()
    ticket = new_ticket(region.code, now)
    while await models.Aspiration.exists(ticket=ticket):
        ticket = new_ticket(region.code, now)
    reporter_key = new_reporter_key()
    async with log.transaction(doorbell) as tx:
        row = await models.Aspiration.create(
            ticket=ticket,
            title=" ".join(title.split()),
            description=description,
            category=submission.category,
            region_id=region.code,
            kim_id=kim.id if kim is not None else None,
            status=AspirationStatus.SUBMITTED,
            visibility=submission.visibility,
            reporter_name=reporter_name,
            reporter_contact=reporter_contact,
            submitter_id=principal.account_id,
            reporter_key_hash=key_digest(reporter_key),
            due_at=Deadline.VERIFY.due_at(now),
            created_at=now,
            updated_at=now,
            using_db=tx.conn,
        )
        event_id = await log_event(tx, row, EventKind.SUBMITTED, now)
        await models.AspirationTransition.create(
            aspiration_id=row.id,
            event_id=event_id,
            from_status=None,
            to_status=AspirationStatus.SUBMITTED,
            capacity="REPORTER_KIM" if principal.role is Role.KIM else "REPORTER",
            actor_id=principal.account_id,
            actor_name=principal.display_name,
            at=now,
            using_db=tx.conn,
        )
        await schedule_deadline(tx.conn, row, Deadline.VERIFY)
    return Outcome(row, event_id, reporter_key=reporter_key)
