from tortoise import migrations
from tortoise.migrations import operations as ops
from kimgraph.models.aspirations import AspirationStatus
from kimgraph.models.aspirations import AspirationCategory, AspirationVisibility
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_announcements_events')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Aspiration',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.CharField(unique=True, max_length=32)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(unique=False)),
                ('category', fields.CharEnumField(description='INFRASTRUCTURE: INFRASTRUCTURE\nPUBLIC_SERVICE: PUBLIC_SERVICE\nHEALTH: HEALTH\nEDUCATION: EDUCATION\nSOCIAL: SOCIAL\nECONOMY: ECONOMY\nAGRICULTURE: AGRICULTURE\nENVIRONMENT: ENVIRONMENT\nSECURITY: SECURITY\nDISASTER: DISASTER\nGOVERNMENT: GOVERNMENT\nOTHER: OTHER', enum_type=AspirationCategory, max_length=16)),
                ('region', fields.ForeignKeyField('models.Region', source_field='region_id', db_constraint=True, to_field='code', related_name='aspirations', on_delete=OnDelete.RESTRICT)),
                ('kim', fields.ForeignKeyField('models.Kim', source_field='kim_id', null=True, db_constraint=True, to_field='id', related_name='aspirations', on_delete=OnDelete.RESTRICT)),
                ('status', fields.CharEnumField(description='SUBMITTED: SUBMITTED\nNEEDS_INFO: NEEDS_INFO\nVERIFIED: VERIFIED\nDISPOSED: DISPOSED\nIN_PROGRESS: IN_PROGRESS\nRESPONDED: RESPONDED\nRESOLVED: RESOLVED\nREJECTED: REJECTED\nNOT_AUTHORIZED: NOT_AUTHORIZED\nDUPLICATE: DUPLICATE\nARCHIVED: ARCHIVED\nWITHDRAWN: WITHDRAWN', enum_type=AspirationStatus, max_length=16)),
                ('version', fields.IntField(default=1)),
                ('visibility', fields.CharEnumField(description='PUBLIC: PUBLIC\nANONYMOUS: ANONYMOUS\nCONFIDENTIAL: CONFIDENTIAL', enum_type=AspirationVisibility, max_length=12)),
                ('hidden', fields.BooleanField(default=False)),
                ('hidden_reason', fields.CharField(null=True, max_length=500)),
                ('assigned_unit', fields.CharField(null=True, max_length=200)),
                ('duplicate_of', fields.ForeignKeyField('models.Aspiration', source_field='duplicate_of_id', null=True, db_constraint=True, to_field='id', related_name='duplicates', on_delete=OnDelete.RESTRICT)),
                ('due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reporter_name', fields.CharField(null=True, max_length=200)),
                ('reporter_contact', fields.CharField(null=True, max_length=200)),
                ('submitter', fields.ForeignKeyField('models.Account', source_field='submitter_id', null=True, db_constraint=True, to_field='id', related_name='submitted_aspirations', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'aspiration', 'app': 'models', 'indexes': [Index(fields=['region_id', 'id']), Index(fields=['status', 'id'])], 'pk_attr': 'id', 'table_description': 'An aspiration or complaint of a citizen, raised in a desa or kelurahan.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AspirationResponse',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('aspiration', fields.ForeignKeyField('models.Aspiration', source_field='aspiration_id', db_constraint=True, to_field='id', related_name='responses', on_delete=OnDelete.RESTRICT)),
                ('event_id', fields.BigIntField(null=True, db_index=True)),
                ('message', fields.TextField(unique=False)),
                ('public', fields.BooleanField()),
                ('author', fields.ForeignKeyField('models.Account', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='aspiration_responses', on_delete=OnDelete.SET_NULL)),
                ('author_name', fields.CharField(max_length=200)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'aspiration_response', 'app': 'models', 'indexes': [Index(fields=['aspiration_id', 'id'])], 'pk_attr': 'id', 'table_description': 'A message about an aspiration: public to the reporter, or internal.'},
            bases=['InsertOnly'],
        ),
        ops.CreateModel(
            name='AspirationTransition',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('aspiration', fields.ForeignKeyField('models.Aspiration', source_field='aspiration_id', db_constraint=True, to_field='id', related_name='transitions', on_delete=OnDelete.RESTRICT)),
                ('event_id', fields.BigIntField(null=True, db_index=True)),
                ('from_status', fields.CharEnumField(null=True, description='SUBMITTED: SUBMITTED\nNEEDS_INFO: NEEDS_INFO\nVERIFIED: VERIFIED\nDISPOSED: DISPOSED\nIN_PROGRESS: IN_PROGRESS\nRESPONDED: RESPONDED\nRESOLVED: RESOLVED\nREJECTED: REJECTED\nNOT_AUTHORIZED: NOT_AUTHORIZED\nDUPLICATE: DUPLICATE\nARCHIVED: ARCHIVED\nWITHDRAWN: WITHDRAWN', enum_type=AspirationStatus, max_length=16)),
                ('to_status', fields.CharEnumField(description='SUBMITTED: SUBMITTED\nNEEDS_INFO: NEEDS_INFO\nVERIFIED: VERIFIED\nDISPOSED: DISPOSED\nIN_PROGRESS: IN_PROGRESS\nRESPONDED: RESPONDED\nRESOLVED: RESOLVED\nREJECTED: REJECTED\nNOT_AUTHORIZED: NOT_AUTHORIZED\nDUPLICATE: DUPLICATE\nARCHIVED: ARCHIVED\nWITHDRAWN: WITHDRAWN', enum_type=AspirationStatus, max_length=16)),
                ('capacity', fields.CharField(max_length=16)),
                ('actor', fields.ForeignKeyField('models.Account', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='aspiration_transitions', on_delete=OnDelete.SET_NULL)),
                ('actor_name', fields.CharField(max_length=200)),
                ('note', fields.TextField(null=True, unique=False)),
                ('public_note', fields.TextField(null=True, unique=False)),
                ('assigned_unit', fields.CharField(null=True, max_length=200)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'aspiration_transition', 'app': 'models', 'indexes': [Index(fields=['aspiration_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One step of an aspiration through its workflow, submission included.'},
            bases=['InsertOnly'],
        ),
    ]
