from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0013_pii")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Account",
            name="office",
            field=fields.CharField(null=True, max_length=200),
        ),
    ]
