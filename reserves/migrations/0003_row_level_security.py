from django.db import migrations

from common.sql_migrations import RunVendorSQL


class Migration(migrations.Migration):
    dependencies = [("reserves", "0002_seed_approval_rules")]

    operations = [RunVendorSQL("reserves", "0003_row_level_security")]
