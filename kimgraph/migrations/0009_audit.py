from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0008_accounts")]

    initial = False

    operations = [
        ops.CreateModel(
            name="AuditEntry",
            fields=[
                (
                    "id",
                    fields.IntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "occurred_at",
                    fields.DatetimeField(
                        db_index=True, auto_now=False, auto_now_add=False
                    ),
                ),
                ("actor_kind", fields.CharField(max_length=16)),
                ("actor_id", fields.IntField(null=True)),
                ("actor", fields.CharField(max_length=100)),
                ("role", fields.CharField(null=True, max_length=16)),
                ("action", fields.CharField(max_length=40)),
                ("target_type", fields.CharField(max_length=40)),
                ("target_id", fields.CharField(max_length=100)),
                ("summary", fields.TextField(unique=False)),
            ],
            options={
                "table": "audit_entry",
                "app": "models",
                "indexes": [
                    Index(fields=["actor", "id"]),
                    Index(fields=["action", "id"]),
                    Index(fields=["target_id", "id"]),
                ],
                "pk_attr": "id",
                "table_description": "One state-changing action, inserted in the transaction of its change.",
            },
            bases=["Model"],
        ),
    ]
