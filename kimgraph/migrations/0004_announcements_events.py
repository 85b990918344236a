from tortoise import migrations
from tortoise.migrations import operations as ops
from kimgraph.models.announcements import AnnouncementCategory, AnnouncementPriority
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_one_ketua')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Announcement',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=200)),
                ('body', fields.TextField(unique=False)),
                ('category', fields.CharEnumField(description='GENERAL: GENERAL\nGOVERNMENT: GOVERNMENT\nHEALTH: HEALTH\nEDUCATION: EDUCATION\nECONOMY: ECONOMY\nAGRICULTURE: AGRICULTURE\nINFRASTRUCTURE: INFRASTRUCTURE\nSOCIAL: SOCIAL\nSECURITY: SECURITY\nDISASTER: DISASTER\nEVENT: EVENT', enum_type=AnnouncementCategory, max_length=16)),
                ('priority', fields.IntEnumField(description='NORMAL: 0\nIMPORTANT: 1\nEMERGENCY: 2', enum_type=AnnouncementPriority, generated=False)),
                ('kim', fields.ForeignKeyField('models.Kim', source_field='kim_id', null=True, db_constraint=True, to_field='id', related_name='announcements', on_delete=OnDelete.RESTRICT)),
                ('publisher', fields.ForeignKeyField('models.Account', source_field='publisher_id', null=True, db_constraint=True, to_field='id', related_name='announcements', on_delete=OnDelete.SET_NULL)),
                ('published_by', fields.CharField(max_length=200)),
                ('valid_from', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('valid_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('withdrawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('withdraw_reason', fields.CharField(null=True, max_length=500)),
                ('revision', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'announcement', 'app': 'models', 'indexes': [Index(fields=['priority', 'valid_from', 'id'])], 'pk_attr': 'id', 'table_description': 'Information published for one or more regions and everything below them.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AnnouncementTarget',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('announcement', fields.ForeignKeyField('models.Announcement', source_field='announcement_id', db_constraint=True, to_field='id', related_name='targets', on_delete=OnDelete.CASCADE)),
                ('region', fields.ForeignKeyField('models.Region', source_field='region_id', db_constraint=True, to_field='code', related_name='announcement_targets', on_delete=OnDelete.RESTRICT)),
                ('relayed_by', fields.CharField(null=True, max_length=200)),
                ('added_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'announcement_target', 'app': 'models', 'unique_together': (('announcement', 'region'),), 'indexes': [Index(fields=['region_id', 'announcement_id'])], 'pk_attr': 'id', 'table_description': 'One region an announcement is published for (relays add more).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Event',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('stream', fields.CharField(max_length=16)),
                ('kind', fields.CharField(max_length=16)),
                ('entity_id', fields.IntField()),
                ('regions', fields.TextField(unique=False)),
                ('occurred_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'event', 'app': 'models', 'indexes': [Index(fields=['stream', 'id'])], 'pk_attr': 'id', 'table_description': 'A change, written in the transaction that made it, with ids in commit order.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EventLogState',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('pruned_through', fields.BigIntField(default=0)),
            ],
            options={'table': 'event_log_state', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One row: the highest event id removed by retention (0 until the first prune).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Timer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=32)),
                ('entity_id', fields.IntField()),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('fired_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'timer', 'app': 'models', 'indexes': [Index(fields=['fired_at', 'due_at'])], 'pk_attr': 'id', 'table_description': 'Something due at a time, fired once by whichever process claims it.'},
            bases=['Model'],
        ),
    ]
