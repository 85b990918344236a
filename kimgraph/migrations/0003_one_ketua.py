from tortoise import migrations
from tortoise.migrations import operations as ops

class Migration(migrations.Migration):
    dependencies = [('models', '0002_accounts_kims')]

    initial = False

    operations = [
        # At most one ketua per KIM, held by the database itself so that two
        # concurrent kimMemberAdd calls cannot both succeed.
        ops.RunSQL(
            "CREATE UNIQUE INDEX kim_member_one_ketua ON kim_member (kim_id) "
            "WHERE role = 'KETUA'",
            reverse_sql="DROP INDEX kim_member_one_ketua",
        ),
    ]
