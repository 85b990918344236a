from tortoise import migrations
from tortoise.migrations import operations as ops
from kimgraph.models.regions import RegionLevel
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Region',
            fields=[
                ('code', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=13)),
                ('parent', fields.ForeignKeyField('models.Region', source_field='parent_id', null=True, db_index=True, db_constraint=True, to_field='code', related_name='children', on_delete=OnDelete.RESTRICT)),
                ('level', fields.CharEnumField(description='PROVINSI: provinsi\nKABUPATEN: kabupaten\nKOTA: kota\nKECAMATAN: kecamatan\nKELURAHAN: kelurahan\nDESA: desa', enum_type=RegionLevel, max_length=9)),
                ('name', fields.CharField(max_length=120)),
                ('search_name', fields.CharField(max_length=120)),
            ],
            options={'table': 'region', 'app': 'models', 'indexes': [Index(fields=['level', 'code'])], 'pk_attr': 'code', 'table_description': 'A provinsi, kabupaten/kota, kecamatan or desa/kelurahan.'},
            bases=['Model'],
        ),
    ]
