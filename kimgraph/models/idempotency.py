"""Idempotency keys: a mutation request recorded with the change it made."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class IdempotencyKey(Model):
    """A client's Idempotency-Key, written in the transaction of its change.

    Its row exists exactly when the change committed (kimgraph.idempotency);
    `answer` is filled just after, and stays null if the process died first.
    """

    id = fields.IntField(primary_key=True)
    # Whose key: "account:7", "api-key:3" or "address:<client address>".
    scope = fields.CharField(max_length=80)
    key = fields.CharField(max_length=255)
    # SHA-256 of the request (method, query string, body): a reuse is refused.
    request_hash = fields.CharField(max_length=64)
    # JSON list of the events the change logged (stream, kind, entity, id).
    applied = fields.TextField()
    # The HTTP status and JSON body the request was answered with.
    status = fields.IntField(null=True)
    answer = fields.TextField(null=True)
    created_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "idempotency_key"
        unique_together = (("scope", "key"),)
