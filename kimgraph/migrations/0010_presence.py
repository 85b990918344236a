from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0009_audit")]

    initial = False

    operations = [
        ops.CreateModel(
            name="BoardPresence",
            fields=[
                ("code", fields.CharField(primary_key=True, max_length=13)),
                (
                    "since",
                    fields.DatetimeField(auto_now=False, auto_now_add=False),
                ),
                (
                    "last_seen",
                    fields.DatetimeField(auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "board_presence",
                "app": "models",
                "pk_attr": "code",
                "table_description": "A desa or kelurahan whose notice board some "
                "process has recorded.",
            },
            bases=["Model"],
        ),
    ]
