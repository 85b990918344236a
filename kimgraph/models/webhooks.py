"""Webhook endpoints of partner API keys and their delivery log (docs/webhooks.md)."""

from __future__ import annotations

import enum

from tortoise import fields
from tortoise.models import Model

from kimgraph.models.accounts import ApiKey
from kimgraph.pii.fields import SigningSecretField


class WebhookStatus(enum.StrEnum):
    """Whether an endpoint is being delivered to."""

    ACTIVE = "ACTIVE"
    # An event failed for the whole retry window; the endpoint waits, in
    # order, until an ADMIN enables it again (it resumes with that event).
    SUSPENDED = "SUSPENDED"
    DISABLED = "DISABLED"


class DeliveryStatus(enum.StrEnum):
    """Where one event's delivery to one endpoint is."""

    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


class WebhookEndpoint(Model):
    """An HTTPS URL that the events of a partner key are POSTed to, one at a time."""

    id = fields.IntField(primary_key=True)
    api_key: fields.ForeignKeyRelation[ApiKey] = fields.ForeignKeyField(
        "models.ApiKey", related_name="webhooks", on_delete=fields.CASCADE
    )
    api_key_id: int
    url = fields.CharField(max_length=2000)
    # Encrypted, not hashed: it must sign every request (docs/webhooks.md,
    # "The secret at rest"); decrypted only to sign one.
    secret = SigningSecretField()
    announcements = fields.BooleanField(default=False)
    status = fields.CharEnumField(WebhookStatus, max_length=16)
    # Every event up to this id has a delivery row or was not for this key.
    position = fields.BigIntField()
    created_at = fields.DatetimeField()
    # The lease: which process delivers to this endpoint, until when.
    holder = fields.CharField(max_length=64, default="")
    lease_until = fields.DatetimeField()

    class Meta:
        table = "webhook_endpoint"


class WebhookDelivery(Model):
    """One event for one endpoint: its body, its attempts and how they ended."""

    id = fields.BigIntField(primary_key=True)
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "models.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE
    )
    endpoint_id: int
    event_id = fields.BigIntField()
    stream = fields.CharField(max_length=16)
    # The JSON sent, byte for byte on every attempt (no personal data in it).
    body = fields.TextField()
    status = fields.CharEnumField(DeliveryStatus, max_length=16)
    attempts = fields.IntField(default=0)
    created_at = fields.DatetimeField()
    # The retry window (24 h) counts from here; enabling again restarts it.
    first_attempt_at = fields.DatetimeField(null=True)
    next_attempt_at = fields.DatetimeField()
    last_attempt_at = fields.DatetimeField(null=True)
    delivered_at = fields.DatetimeField(null=True)
    last_result = fields.CharField(max_length=300, default="")

    class Meta:
        table = "webhook_delivery"
        unique_together = (("endpoint", "event_id"),)
        indexes = (("endpoint_id", "status", "event_id"),)
