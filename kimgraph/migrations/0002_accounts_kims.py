from tortoise import migrations
from tortoise.migrations import operations as ops
from kimgraph.models.kims import KimRole
from kimgraph.accounts.principals import Role
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_regions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApiKey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=100)),
                ('region', fields.ForeignKeyField('models.Region', source_field='region_id', db_constraint=True, to_field='code', related_name='api_keys', on_delete=OnDelete.RESTRICT)),
                ('key_hash', fields.CharField(unique=True, max_length=64)),
                ('prefix', fields.CharField(max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_key', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An API key of a partner app, limited to a region and stored only hashed.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Kim',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('region', fields.ForeignKeyField('models.Region', source_field='region_id', db_constraint=True, to_field='code', related_name='kims', on_delete=OnDelete.RESTRICT)),
                ('decree_number', fields.CharField(null=True, max_length=100)),
                ('established_on', fields.DateField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'kim', 'app': 'models', 'unique_together': (('region', 'name'),), 'pk_attr': 'id', 'table_description': 'A Kelompok Informasi Masyarakat serving a desa/kelurahan or a kecamatan.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Account',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('username', fields.CharField(unique=True, max_length=64)),
                ('display_name', fields.CharField(max_length=200)),
                ('password_hash', fields.CharField(max_length=255)),
                ('role', fields.CharEnumField(description='ADMIN: ADMIN\nOFFICER: OFFICER\nKIM: KIM\nPARTNER: PARTNER', enum_type=Role, max_length=8)),
                ('region', fields.ForeignKeyField('models.Region', source_field='region_id', db_constraint=True, to_field='code', related_name='accounts', on_delete=OnDelete.RESTRICT)),
                ('kim', fields.ForeignKeyField('models.Kim', source_field='kim_id', null=True, db_constraint=True, to_field='id', related_name='accounts', on_delete=OnDelete.RESTRICT)),
                ('is_active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'account', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A person who signs in: a Diskominfo admin, an officer, or an officer of a KIM.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AccessToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='tokens', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'access_token', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A bearer token issued by tokenCreate, stored only as its SHA-256.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='KimMember',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kim', fields.ForeignKeyField('models.Kim', source_field='kim_id', db_constraint=True, to_field='id', related_name='members', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('role', fields.CharEnumField(description='KETUA: KETUA\nSEKRETARIS: SEKRETARIS\nBENDAHARA: BENDAHARA\nANGGOTA: ANGGOTA', enum_type=KimRole, max_length=10)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'kim_member', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A person holding an office in a KIM.'},
            bases=['Model'],
        ),
    ]
