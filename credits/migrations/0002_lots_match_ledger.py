from django.db import migrations

from common.sql_migrations import RunVendorSQL


class Migration(migrations.Migration):
    dependencies = [("credits", "0001_wallets_lots_reservations"), ("ledger", "0002_integrity_triggers")]

    operations = [RunVendorSQL("credits", "0002_lots_match_ledger")]
