from django.db import migrations

from common.sql_migrations import RunVendorSQL


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_accounts_entries_lines_templates")]

    operations = [RunVendorSQL("ledger", "0002_integrity_triggers")]
