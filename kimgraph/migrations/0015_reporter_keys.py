from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0014_offices")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Aspiration",
            name="reporter_key_hash",
            field=fields.CharField(null=True, max_length=64),
        ),
    ]
