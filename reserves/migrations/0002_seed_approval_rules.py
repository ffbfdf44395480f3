"""The default approval rules: every action needs 2 partner signatures within 72 hours; any active
partner serving the merchant is eligible. Safe to rerun (existing rules are left alone)."""

from django.db import migrations

ACTIONS = ["release_reserve", "change_policy", "change_approval_rule"]


def seed(apps, schema_editor):
    ApprovalRule = apps.get_model("reserves", "ApprovalRule")
    for action in ACTIONS:
        ApprovalRule.objects.get_or_create(action=action, defaults={"required_signatures": 2, "ttl_hours": 72})


class Migration(migrations.Migration):
    dependencies = [("reserves", "0001_approvals_policies_engine")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
