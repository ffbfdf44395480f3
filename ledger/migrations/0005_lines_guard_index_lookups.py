from django.db import migrations

from common.sql_migrations import RunVendorSQL


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_seed_transaction_templates")]

    operations = [RunVendorSQL("ledger", "0005_lines_guard_index_lookups")]
