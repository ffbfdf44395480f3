from django.db import migrations

from common.sql_migrations import RunVendorSQL


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_integrity_triggers")]

    operations = [RunVendorSQL("ledger", "0003_append_only")]
