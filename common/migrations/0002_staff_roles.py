from django.db import migrations

ROLES = ["compliance analyst", "compliance lead", "finance operator", "vault custodian", "auditor", "partner approver"]


def create_roles(apps, schema_editor):
    """The staff roles; their permissions are attached after every migrate (common.roles)."""
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("common", "0001_access_control"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
