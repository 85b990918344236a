from tortoise import migrations
from tortoise.migrations import operations as ops
from kimgraph.models.webhooks import DeliveryStatus, WebhookStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0011_units")]

    initial = False

    operations = [
        ops.CreateModel(
            name="WebhookEndpoint",
            fields=[
                (
                    "id",
                    fields.IntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "api_key",
                    fields.ForeignKeyField(
                        "models.ApiKey",
                        source_field="api_key_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="webhooks",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("url", fields.CharField(max_length=2000)),
                ("secret", fields.CharField(max_length=100)),
                ("announcements", fields.BooleanField(default=False)),
                (
                    "status",
                    fields.CharEnumField(
                        description="ACTIVE: ACTIVE\nSUSPENDED: SUSPENDED\nDISABLED: DISABLED",
                        enum_type=WebhookStatus,
                        max_length=16,
                    ),
                ),
                ("position", fields.BigIntField()),
                (
                    "created_at",
                    fields.DatetimeField(auto_now=False, auto_now_add=False),
                ),
                ("holder", fields.CharField(default="", max_length=64)),
                (
                    "lease_until",
                    fields.DatetimeField(auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "webhook_endpoint",
                "app": "models",
                "pk_attr": "id",
                "table_description": "An HTTPS URL that the events of a partner key are POSTed to, one at a time.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="WebhookDelivery",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "endpoint",
                    fields.ForeignKeyField(
                        "models.WebhookEndpoint",
                        source_field="endpoint_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="deliveries",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("event_id", fields.BigIntField()),
                ("stream", fields.CharField(max_length=16)),
                ("body", fields.TextField()),
                (
                    "status",
                    fields.CharEnumField(
                        description="PENDING: PENDING\nDELIVERED: DELIVERED\nFAILED: FAILED",
                        enum_type=DeliveryStatus,
                        max_length=16,
                    ),
                ),
                ("attempts", fields.IntField(default=0)),
                (
                    "created_at",
                    fields.DatetimeField(auto_now=False, auto_now_add=False),
                ),
                (
                    "first_attempt_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                (
                    "next_attempt_at",
                    fields.DatetimeField(auto_now=False, auto_now_add=False),
                ),
                (
                    "last_attempt_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                (
                    "delivered_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("last_result", fields.CharField(default="", max_length=300)),
            ],
            options={
                "table": "webhook_delivery",
                "app": "models",
                "unique_together": (("endpoint", "event_id"),),
                "indexes": [Index(fields=["endpoint_id", "status", "event_id"])],
                "pk_attr": "id",
                "table_description": "One event for one endpoint: its body, its attempts and how they ended.",
            },
            bases=["Model"],
        ),
    ]
