"""Staff roles as Django groups, least privilege. Apps' permissions are attached by codename.

The groups are created by a data migration; `sync_role_permissions` (post_migrate) attaches every
permission that exists by then, so roles pick up permissions of apps migrated later.
"""

from fnmatch import fnmatch
from typing import Any

COMPLIANCE_ANALYST = "compliance analyst"
COMPLIANCE_LEAD = "compliance lead"
FINANCE_OPERATOR = "finance operator"
VAULT_CUSTODIAN = "vault custodian"
AUDITOR = "auditor"
PARTNER_APPROVER = "partner approver"

# Patterns over "app_label.codename". Read-only roles get view permissions only.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    AUDITOR: ["*.view_*"],
    # Analysts prepare; only leads approve (maker-checker on submit and accept).
    COMPLIANCE_ANALYST: ["disputes.*", "!disputes.delete_*", "!disputes.approve_*", "audit.view_*", "ledger.view_*",
                         "tenants.view_*"],
    COMPLIANCE_LEAD: ["disputes.*", "audit.view_*", "ledger.view_*", "tenants.view_*"],
    FINANCE_OPERATOR: ["ledger.*", "!ledger.delete_*", "reserves.view_*", "reserves.add_approvalrequest", "credits.*",
                       "!credits.delete_*", "tenants.view_*", "audit.view_*"],
    VAULT_CUSTODIAN: ["vault.*", "!vault.delete_*", "audit.view_*"],
    PARTNER_APPROVER: ["reserves.view_*", "reserves.sign_*", "tenants.view_*"],
}  # fmt: skip


def permissions_for(role: str, available: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """(app_label, codename) pairs the role's patterns grant; '!pattern' removes."""
    granted: set[tuple[str, str]] = set()
    for pattern in ROLE_PERMISSIONS[role]:
        exclude = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        matched = {pair for pair in available if fnmatch(f"{pair[0]}.{pair[1]}", pattern)}
        granted = granted - matched if exclude else granted | matched
    return granted


def sync_role_permissions(**kwargs: Any) -> None:
    from django.contrib.auth.models import Group, Permission

    permissions = {(p.content_type.app_label, p.codename): p for p in Permission.objects.select_related("content_type")}
    for role in ROLE_PERMISSIONS:
        group, _ = Group.objects.get_or_create(name=role)
        wanted = {permissions[pair] for pair in permissions_for(role, list(permissions))}
        current = set(group.permissions.all())
        if wanted - current:
            group.permissions.add(*(wanted - current))
