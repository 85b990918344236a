from tortoise import migrations
from tortoise.migrations import operations as ops
from kimgraph.models.warnings import (
    WarningOutcome,
    WarningReviewReason,
    WarningReviewStatus,
)
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0005_aspirations")]

    initial = False

    operations = [
        ops.CreateModel(
            name="WarningPollerLease",
            fields=[
                (
                    "id",
                    fields.IntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("holder", fields.CharField(max_length=64)),
                (
                    "expires_at",
                    fields.DatetimeField(auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "warning_poller_lease",
                "app": "models",
                "pk_attr": "id",
                "table_description": "One row: which process polls the feed, until when (one poller at a time).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="WarningThread",
            fields=[
                (
                    "id",
                    fields.IntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("key", fields.CharField(unique=True, max_length=600)),
                ("event", fields.CharField(max_length=200)),
                (
                    "announcement",
                    fields.ForeignKeyField(
                        "models.Announcement",
                        source_field="announcement_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="warning_threads",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("cancelled", fields.BooleanField(default=False)),
                (
                    "created_at",
                    fields.DatetimeField(auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "warning_thread",
                "app": "models",
                "pk_attr": "id",
                "table_description": "An Alert and the Updates and Cancel that reference it: one announcement.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="WarningMessage",
            fields=[
                (
                    "id",
                    fields.IntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("sender", fields.CharField(max_length=255)),
                ("identifier", fields.CharField(db_index=True, max_length=255)),
                ("sent", fields.CharField(max_length=64)),
                ("msg_type", fields.CharField(max_length=16)),
                (
                    "thread",
                    fields.ForeignKeyField(
                        "models.WarningThread",
                        source_field="thread_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="messages",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "outcome",
                    fields.CharEnumField(
                        description="PROCESSING: PROCESSING\nPUBLISHED: PUBLISHED\nREVISED: REVISED\nWITHDRAWN: WITHDRAWN\nREVIEW: REVIEW\nDROPPED: DROPPED\nIGNORED: IGNORED",
                        enum_type=WarningOutcome,
                        max_length=16,
                    ),
                ),
                ("note", fields.TextField(null=True, unique=False)),
                (
                    "received_at",
                    fields.DatetimeField(auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "warning_message",
                "app": "models",
                "unique_together": (("sender", "identifier", "sent"),),
                "pk_attr": "id",
                "table_description": "One CAP document seen, unique by sender, identifier and sent.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="WarningReview",
            fields=[
                (
                    "id",
                    fields.IntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "message",
                    fields.ForeignKeyField(
                        "models.WarningMessage",
                        source_field="message_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="reviews",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "thread",
                    fields.ForeignKeyField(
                        "models.WarningThread",
                        source_field="thread_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="reviews",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "reason",
                    fields.CharEnumField(
                        description="UNMATCHED: UNMATCHED\nAMBIGUOUS: AMBIGUOUS\nSEVERITY: SEVERITY\nINVALID: INVALID",
                        enum_type=WarningReviewReason,
                        max_length=16,
                    ),
                ),
                ("detail", fields.TextField(unique=False)),
                ("event", fields.CharField(null=True, max_length=200)),
                ("severity", fields.CharField(null=True, max_length=16)),
                ("title", fields.CharField(null=True, max_length=200)),
                ("body", fields.TextField(null=True, unique=False)),
                (
                    "valid_from",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                (
                    "valid_until",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("suggested_targets", fields.TextField(default="", unique=False)),
                (
                    "status",
                    fields.CharEnumField(
                        description="PENDING: PENDING\nPUBLISHED: PUBLISHED\nDISMISSED: DISMISSED\nSUPERSEDED: SUPERSEDED",
                        enum_type=WarningReviewStatus,
                        max_length=16,
                    ),
                ),
                (
                    "announcement",
                    fields.ForeignKeyField(
                        "models.Announcement",
                        source_field="announcement_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="warning_reviews",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("decided_by", fields.CharField(null=True, max_length=200)),
                (
                    "decided_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("dismiss_reason", fields.CharField(null=True, max_length=500)),
                (
                    "created_at",
                    fields.DatetimeField(auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "warning_review",
                "app": "models",
                "indexes": [Index(fields=["status", "id"])],
                "pk_attr": "id",
                "table_description": "A warning not published automatically, waiting for an ADMIN or OFFICER.",
            },
            bases=["Model"],
        ),
    ]
