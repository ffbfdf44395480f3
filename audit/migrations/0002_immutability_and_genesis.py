from django.db import migrations
from django.utils import timezone

from common.sql_migrations import RunVendorSQL

GENESIS_PREV_HASH = "0" * 64


def create_head_and_genesis(apps, schema_editor):
    """The chain head row, and the genesis event every chain starts from."""
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead.objects.get_or_create(pk=1, defaults={"last_sequence": 0, "last_hash": GENESIS_PREV_HASH})
    if not AuditEvent.objects.filter(action="audit.chain.genesis").exists():
        AuditEvent.objects.create(
            occurred_at=timezone.now(),
            actor_kind="system",
            actor_label="migration",
            action="audit.chain.genesis",
            data='{"note":"start of the Strongroom audit chain"}',
        )


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        RunVendorSQL("audit", "0002_immutability"),
        migrations.RunPython(create_head_and_genesis, migrations.RunPython.noop),
    ]
