from tortoise import migrations
from tortoise.migrations import operations as ops

from kimgraph.pii.fields import PersonalDataField


class Migration(migrations.Migration):
    dependencies = [("models", "0012_webhooks")]

    initial = False

    # TEXT: a 200-character name encrypts to far more than 200 characters.
    # Rows already stored stay in clear until `kimgraph pii encrypt` (or `serve`
    # with KIMGRAPH_SECRET_KEY set) encrypts them (docs/privacy.md).
    operations = [
        ops.AlterField(
            model_name="Aspiration",
            name="reporter_name",
            field=PersonalDataField(null=True),
        ),
        ops.AlterField(
            model_name="Aspiration",
            name="reporter_contact",
            field=PersonalDataField(null=True),
        ),
    ]
