from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0010_presence")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Unit",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("name", fields.CharField(max_length=200)),
                ("region", fields.ForeignKeyField("models.Region", source_field="region_id", db_constraint=True, to_field="code", related_name="units", on_delete=OnDelete.RESTRICT)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("archived_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={"table": "unit", "app": "models", "unique_together": (("region_id", "name"),), "pk_attr": "id", "table_description": "An OPD or office that handles the aspirations disposed to it."},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="UnitMember",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("unit", fields.ForeignKeyField("models.Unit", source_field="unit_id", db_constraint=True, to_field="id", related_name="members", on_delete=OnDelete.CASCADE)),
                ("account", fields.ForeignKeyField("models.Account", source_field="account_id", db_constraint=True, to_field="id", related_name="unit_memberships", on_delete=OnDelete.CASCADE)),
                ("added_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "unit_member", "app": "models", "unique_together": (("unit_id", "account_id"),), "indexes": [Index(fields=["account_id"])], "pk_attr": "id", "table_description": "An OFFICER account that acts as a unit (an account may be in several)."},
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Aspiration",
            name="unit",
            field=fields.ForeignKeyField("models.Unit", source_field="unit_id", null=True, db_constraint=True, to_field="id", related_name="aspirations", on_delete=OnDelete.RESTRICT),
        ),
        ops.AddField(
            model_name="AspirationTransition",
            name="unit",
            field=fields.ForeignKeyField("models.Unit", source_field="unit_id", null=True, db_constraint=True, to_field="id", related_name="aspiration_transitions", on_delete=OnDelete.RESTRICT),
        ),
    ]
