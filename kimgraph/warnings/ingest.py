"""One CAP document in: publish, revise, withdraw, queue for review, or drop.

Every message is claimed first by its idempotency key (sender, identifier,
sent; a unique constraint), so a repeat, or a second process seeing the same
message, changes nothing. Announcements go through the announcement commands,
so their rules, events and the doorbell apply as to any other publisher.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError

from kimgraph import announcements, models
from kimgraph.accounts.principals import Principal, Role
from kimgraph.announcements.records import Status, status_of
from kimgraph.clock import Clock
from kimgraph.errors import UserInputError
from kimgraph.events.bus import Doorbell
from kimgraph.models import WarningOutcome, WarningReviewReason, WarningReviewStatus
from kimgraph.warnings import cap
from kimgraph.warnings.areas import Gazetteer, normalise
from kimgraph.warnings.decide import (
    PRIORITY_OF,
    Decision,
    Verdict,
    body_of,
    decide,
    title_of,
)

SYSTEM_NAME = "BMKG (otomatis)"
REVISE_ATTEMPTS = 5


def system_principal(kabupaten: str) -> Principal:
    """The account automatic publications are made as: the kabupaten's office."""
    return Principal(role=Role.ADMIN, region_code=kabupaten, display_name=SYSTEM_NAME)


@dataclass(frozen=True, slots=True)
class Ingested:
    """What became of a document; `seen` if it was a repeat (nothing changed)."""

    outcome: WarningOutcome | None
    announcement_id: int | None = None
    review_id: int | None = None
    note: str | None = None

    @property
    def seen(self) -> bool:
        return self.outcome is None


SEEN = Ingested(None)


async def ingest(
    clock: Clock,
    doorbell: Doorbell,
    gazetteer: Gazetteer,
    document: bytes,
    source: str,
) -> Ingested:
    """Act on one CAP document fetched from source (its URL or RSS guid)."""
    try:
        message = cap.parse_message(document)
    except cap.CapError as error:
        return await _unreadable(clock, document, source, str(error))
    row = await _claim(clock, message)
    if row is None:
        return SEEN
    try:
        result = await _act(clock, doorbell, gazetteer, message, row)
    except BaseException:
        # Not done: forget the claim so the next poll tries again.
        await row.delete()
        raise
    row.outcome = result.outcome or WarningOutcome.IGNORED
    if result.note is not None:
        row.note = result.note
    await row.save(update_fields=["outcome", "note", "thread_id"])
    return result


async def _claim(clock: Clock, message: cap.Message) -> models.WarningMessage | None:
    try:
        return await models.WarningMessage.create(
            sender=message.sender,
            identifier=message.identifier,
            sent=message.sent,
            msg_type=message.msg_type,
            outcome=WarningOutcome.PROCESSING,
            received_at=clock.now(),
        )
    except IntegrityError:
        return None


async def _unreadable(
    clock: Clock, document: bytes, source: str, problem: str
) -> Ingested:
    """A document that is not safe or valid CAP: one review item per content."""
    digest = hashlib.sha256(document).hexdigest()
    try:
        row = await models.WarningMessage.create(
            sender="",
            identifier=source[:255],
            sent=digest,
            msg_type="",
            outcome=WarningOutcome.REVIEW,
            note=problem,
            received_at=clock.now(),
        )
    except IntegrityError:
        return SEEN
    review = await models.WarningReview.create(
        message=row,
        reason=WarningReviewReason.INVALID,
        detail=f"{source}: {problem}",
        status=WarningReviewStatus.PENDING,
        created_at=clock.now(),
    )
    return Ingested(WarningOutcome.REVIEW, review_id=review.id, note=problem)


async def _act(
    clock: Clock,
    doorbell: Doorbell,
    gazetteer: Gazetteer,
    message: cap.Message,
    row: models.WarningMessage,
) -> Ingested:
    if message.status != "Actual" or message.scope != "Public":
        note = f"status {message.status}, scope {message.scope}: not for the public"
        return Ingested(WarningOutcome.DROPPED, note=note)
    if message.msg_type not in ("Alert", "Update", "Cancel"):
        return Ingested(WarningOutcome.DROPPED, note=f"msgType {message.msg_type}")
    thread = await _thread(clock, message)
    row.thread_id = thread.id
    await _supersede(thread)
    system = system_principal(gazetteer.kabupaten)
    if message.msg_type == "Cancel":
        return await _cancel(clock, doorbell, system, message, thread)
    decision = decide(gazetteer, message)
    now = clock.now()
    if decision.verdict is Verdict.IGNORE:
        return Ingested(WarningOutcome.IGNORED, note=decision.detail)
    expires = message.info.expires
    if decision.verdict is Verdict.REVIEW or expires is None:
        if decision.reason is None:
            decision = Decision(
                Verdict.REVIEW,
                decision.targets,
                WarningReviewReason.INVALID,
                "no expires: an automatic warning must end",
                decision.names,
            )
        return await _review(clock, message, row, thread, decision)
    if expires <= now:
        return Ingested(WarningOutcome.IGNORED, note="expired before it was seen")
    draft = announcements.Draft(
        title=title_of(message, decision.names),
        body=body_of(message),
        category=models.AnnouncementCategory.DISASTER,
        targets=list(decision.targets),
        priority=PRIORITY_OF[message.info.severity],
        valid_from=message.info.effective or message.sent_at,
        valid_until=expires,
    )
    existing = thread.announcement_id or await _overlapping(
        now, thread, message, decision.targets
    )
    if existing is not None:
        thread.announcement_id = existing
        await thread.save(update_fields=["announcement_id"])
        try:
            await _revise(clock, doorbell, system, existing, draft)
        except UserInputError as error:
            note = f"announcement {existing} not revised: {error}"
            return Ingested(WarningOutcome.IGNORED, existing, note=note)
        return Ingested(WarningOutcome.REVISED, existing)
    try:
        outcome = await announcements.publish(clock, doorbell, system, draft)
    except UserInputError as error:
        failed = Decision(
            Verdict.REVIEW,
            decision.targets,
            WarningReviewReason.INVALID,
            f"not publishable: {error}",
            decision.names,
        )
        return await _review(clock, message, row, thread, failed)
    thread.announcement_id = outcome.announcement.id
    await thread.save(update_fields=["announcement_id"])
    return Ingested(WarningOutcome.PUBLISHED, outcome.announcement.id)


async def _thread(clock: Clock, message: cap.Message) -> models.WarningThread:
    """The thread of the first referenced message seen, else a new one."""
    for reference in message.references:
        sender, _, rest = reference.partition(",")
        identifier, _, sent = rest.partition(",")
        seen = await models.WarningMessage.get_or_none(
            sender=sender, identifier=identifier, sent=sent, thread_id__isnull=False
        )
        if seen is not None and seen.thread_id is not None:
            return await models.WarningThread.get(id=seen.thread_id)
    # An Update or Cancel of an Alert never seen: the thread of that Alert,
    # so its other Updates find it.
    key = message.references[0] if message.references else message.key
    thread, _ = await models.WarningThread.get_or_create(
        key=key[:600],
        defaults={"event": message.info.event[:200], "created_at": clock.now()},
    )
    return thread


async def _supersede(thread: models.WarningThread) -> None:
    """A newer message of a thread replaces its reviews still waiting."""
    await models.WarningReview.filter(
        thread_id=thread.id, status=WarningReviewStatus.PENDING
    ).update(status=WarningReviewStatus.SUPERSEDED)


async def _overlapping(
    now: datetime,
    thread: models.WarningThread,
    message: cap.Message,
    targets: tuple[str, ...],
) -> int | None:
    """An announcement showing the same event for one of these kecamatan.

    Two threads overlap when the event is the same (normalised) and their
    targets share a region; the newer then revises the older's announcement
    instead of adding a second one (docs/warnings.md, "Overlaps").
    """
    event = normalise(message.info.event)
    candidates = await models.WarningThread.filter(
        cancelled=False, announcement_id__isnull=False
    ).exclude(id=thread.id)
    for other in candidates:
        if normalise(other.event) != event or other.announcement_id is None:
            continue
        row = await models.Announcement.get_or_none(id=other.announcement_id)
        if row is None or status_of(row, now) not in (Status.ACTIVE, Status.SCHEDULED):
            continue
        shown = await models.AnnouncementTarget.filter(
            announcement_id=row.id, region_id__in=list(targets)
        ).exists()
        if shown:
            return row.id
    return None


async def _revise(
    clock: Clock,
    doorbell: Doorbell,
    system: Principal,
    announcement_id: int,
    draft: announcements.Draft,
) -> None:
    """Text, priority and end of the thread's announcement; new kecamatan relayed."""
    for attempt in range(REVISE_ATTEMPTS):
        row = await models.Announcement.get(id=announcement_id)
        changes = announcements.Changes(
            expected_revision=row.revision,
            title=draft.title,
            body=draft.body,
            priority=draft.priority,
            valid_until=draft.valid_until,
        )
        try:
            await announcements.update(
                clock, doorbell, system, announcement_id, changes
            )
            break
        except UserInputError as error:
            conflict = any(p.code == "CONFLICT" for p in error.problems)
            if not conflict or attempt == REVISE_ATTEMPTS - 1:
                raise
    present = await models.AnnouncementTarget.filter(
        announcement_id=announcement_id
    ).values_list("region_id", flat=True)
    new = [code for code in draft.targets if code not in {str(c) for c in present}]
    if new:
        await announcements.relay(clock, doorbell, system, announcement_id, new)


async def _cancel(
    clock: Clock,
    doorbell: Doorbell,
    system: Principal,
    message: cap.Message,
    thread: models.WarningThread,
) -> Ingested:
    thread.cancelled = True
    await thread.save(update_fields=["cancelled"])
    if thread.announcement_id is None:
        return Ingested(WarningOutcome.IGNORED, note="nothing was published for it")
    sharing = await models.WarningThread.filter(
        announcement_id=thread.announcement_id, cancelled=False
    ).count()
    if sharing:
        note = "another warning still shows on the same announcement"
        return Ingested(WarningOutcome.IGNORED, thread.announcement_id, note=note)
    reason = "Dibatalkan oleh BMKG" + (f": {message.note}" if message.note else "")
    reason = " ".join(reason.split())[:500]
    try:
        await announcements.withdraw(
            clock, doorbell, system, thread.announcement_id, reason
        )
    except UserInputError as error:
        note = f"announcement {thread.announcement_id} not withdrawn: {error}"
        return Ingested(WarningOutcome.IGNORED, thread.announcement_id, note=note)
    return Ingested(WarningOutcome.WITHDRAWN, thread.announcement_id)


async def _review(
    clock: Clock,
    message: cap.Message,
    row: models.WarningMessage,
    thread: models.WarningThread,
    decision: Decision,
) -> Ingested:
    assert decision.reason is not None, "a review always has a reason"
    review = await models.WarningReview.create(
        message=row,
        thread=thread,
        reason=decision.reason,
        detail=decision.detail,
        event=message.info.event[:200],
        severity=message.info.severity,
        title=title_of(message, decision.names),
        body=body_of(message),
        valid_from=message.info.effective or message.sent_at,
        valid_until=message.info.expires,
        suggested_targets=",".join(decision.targets),
        status=WarningReviewStatus.PENDING,
        created_at=clock.now(),
    )
    return Ingested(WarningOutcome.REVIEW, review_id=review.id, note=decision.detail)
