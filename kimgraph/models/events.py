"""The event log (outbox) and the due-time rows that timers fire."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Event(Model):
    """A change, written in the transaction that made it, with ids in commit order."""

    id = fields.BigIntField(primary_key=True)
    stream = fields.CharField(max_length=16)
    kind = fields.CharField(max_length=16)
    entity_id = fields.IntField()
    # Space-separated region codes the change is visible from (prefix rules apply).
    regions = fields.TextField()
    occurred_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "event"
        indexes = (("stream", "id"),)


class EventLogState(Model):
    """One row: the highest event id removed by retention (0 until the first prune)."""

    id = fields.IntField(primary_key=True)
    pruned_through = fields.BigIntField(default=0)

    class Meta:
        table = "event_log_state"


class Timer(Model):
    """Something due at a time, fired once by whichever process claims it."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=32)
    entity_id = fields.IntField()
    due_at = fields.DatetimeField()
    fired_at = fields.DatetimeField(null=True)

    class Meta:
        table = "timer"
        indexes = (("fired_at", "due_at"),)
