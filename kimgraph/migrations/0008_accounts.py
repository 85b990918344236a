from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0007_idempotency")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Account",
            name="must_change_password",
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name="Account",
            name="deactivated_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
