"""BMKG early warnings: CAP messages seen, their threads, and the review queue."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from kimgraph.models.announcements import Announcement


class WarningOutcome(enum.StrEnum):
    """What the ingester did with one CAP message."""

    PROCESSING = "PROCESSING"
    PUBLISHED = "PUBLISHED"
    REVISED = "REVISED"
    WITHDRAWN = "WITHDRAWN"
    REVIEW = "REVIEW"
    DROPPED = "DROPPED"
    IGNORED = "IGNORED"


class WarningReviewReason(enum.StrEnum):
    """Why a warning waits for a person instead of being published automatically."""

    UNMATCHED = "UNMATCHED"
    AMBIGUOUS = "AMBIGUOUS"
    SEVERITY = "SEVERITY"
    INVALID = "INVALID"


class WarningReviewStatus(enum.StrEnum):
    """Where a review item is: waiting, or decided and by what."""

    PENDING = "PENDING"
    PUBLISHED = "PUBLISHED"
    DISMISSED = "DISMISSED"
    SUPERSEDED = "SUPERSEDED"


class WarningThread(Model):
    """An Alert and the Updates and Cancel that reference it: one announcement."""

    id = fields.IntField(primary_key=True)
    # sender,identifier,sent of the first message of the thread (CAP references).
    key = fields.CharField(max_length=600, unique=True)
    event = fields.CharField(max_length=200)
    announcement: fields.ForeignKeyNullableRelation[Announcement] = (
        fields.ForeignKeyField(
            "models.Announcement",
            related_name="warning_threads",
            null=True,
            on_delete=fields.SET_NULL,
        )
    )
    announcement_id: int | None
    cancelled = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()

    class Meta:
        table = "warning_thread"


class WarningMessage(Model):
    """One CAP document seen, unique by sender, identifier and sent."""

    id = fields.IntField(primary_key=True)
    sender = fields.CharField(max_length=255)
    identifier = fields.CharField(max_length=255, db_index=True)
    # As written in the document: the idempotency key compares text, not instants.
    sent = fields.CharField(max_length=64)
    msg_type = fields.CharField(max_length=16)
    thread: fields.ForeignKeyNullableRelation[WarningThread] = fields.ForeignKeyField(
        "models.WarningThread",
        related_name="messages",
        null=True,
        on_delete=fields.RESTRICT,
    )
    thread_id: int | None
    outcome = fields.CharEnumField(WarningOutcome, max_length=16)
    note = fields.TextField(null=True)
    received_at = fields.DatetimeField()

    class Meta:
        table = "warning_message"
        unique_together = (("sender", "identifier", "sent"),)


class WarningReview(Model):
    """A warning not published automatically, waiting for an ADMIN or OFFICER."""

    id = fields.IntField(primary_key=True)
    message: fields.ForeignKeyRelation[WarningMessage] = fields.ForeignKeyField(
        "models.WarningMessage", related_name="reviews", on_delete=fields.RESTRICT
    )
    message_id: int
    thread: fields.ForeignKeyNullableRelation[WarningThread] = fields.ForeignKeyField(
        "models.WarningThread",
        related_name="reviews",
        null=True,
        on_delete=fields.RESTRICT,
    )
    thread_id: int | None
    reason = fields.CharEnumField(WarningReviewReason, max_length=16)
    detail = fields.TextField()
    event = fields.CharField(max_length=200, null=True)
    severity = fields.CharField(max_length=16, null=True)
    title = fields.CharField(max_length=200, null=True)
    body = fields.TextField(null=True)
    valid_from = fields.DatetimeField(null=True)
    valid_until = fields.DatetimeField(null=True)
    # Comma-separated codes of the regions that did match exactly.
    suggested_targets = fields.TextField(default="")
    status = fields.CharEnumField(WarningReviewStatus, max_length=16)
    announcement: fields.ForeignKeyNullableRelation[Announcement] = (
        fields.ForeignKeyField(
            "models.Announcement",
            related_name="warning_reviews",
            null=True,
            on_delete=fields.SET_NULL,
        )
    )
    announcement_id: int | None
    decided_by = fields.CharField(max_length=200, null=True)
    decided_at = fields.DatetimeField(null=True)
    dismiss_reason = fields.CharField(max_length=500, null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "warning_review"
        indexes = (("status", "id"),)


class WarningPollerLease(Model):
    """One row: which process polls the feed, until when (one poller at a time)."""

    id = fields.IntField(primary_key=True)
    holder = fields.CharField(max_length=64)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "warning_poller_lease"
