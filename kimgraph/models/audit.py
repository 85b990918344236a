"""The audit trail: who changed what, written with the change (docs/audit.md)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class AuditEntry(Model):
    """One state-changing action, inserted in the transaction of its change.

    Rows are only ever inserted (kimgraph.audit): no code updates or deletes
    them, and event-log retention does not reach this table.
    """

    id = fields.IntField(primary_key=True)
    occurred_at = fields.DatetimeField(db_index=True)
    # "account", "api_key" or "system" (the command line, or the server itself).
    actor_kind = fields.CharField(max_length=16)
    # The account's or API key's row id; null for "system".
    actor_id = fields.IntField(null=True)
    # Username, API key name, or "system": what auditLog(actor:) matches.
    actor = fields.CharField(max_length=100)
    role = fields.CharField(max_length=16, null=True)
    # A kimgraph.audit.AuditAction value, e.g. "announcement.publish".
    action = fields.CharField(max_length=40)
    target_type = fields.CharField(max_length=40)
    # The target's global id; "" when there is none (an unknown username).
    target_id = fields.CharField(max_length=100)
    # Short JSON of what changed; never a secret or reporter personal data.
    summary = fields.TextField()

    class Meta:
        table = "audit_entry"
        indexes = (("actor", "id"), ("action", "id"), ("target_id", "id"))
