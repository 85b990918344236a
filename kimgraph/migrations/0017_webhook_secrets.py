from tortoise import migrations
from tortoise.migrations import operations as ops

from kimgraph.pii.fields import SigningSecretField


class Migration(migrations.Migration):
    dependencies = [("models", "0016_deadlines")]

    initial = False

    # TEXT: an encrypted secret is longer than the 100 characters of 0012. As in
    # 0013_pii, rows stay in clear until `kimgraph pii encrypt` (or `serve` with
    # KIMGRAPH_SECRET_KEY set) encrypts them: a migration has no secret
    # (docs/privacy.md, "Databases from before encryption").
    operations = [
        ops.AlterField(
            model_name="WebhookEndpoint",
            name="secret",
            field=SigningSecretField(),
        ),
    ]
