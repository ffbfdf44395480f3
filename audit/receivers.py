"""Authentication and permission events.

Django's auth framework has no service layer to call, only its signals, so these are the one place
audit listens to signals: logins, logouts, password changes, and group/permission changes made
anywhere (admin, shell, commands). Domain apps call `audit_record` explicitly instead.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, pre_save
from django.dispatch import receiver

from audit.context import Actor
from audit.services import audit_record

User = get_user_model()


@receiver(user_logged_in, dispatch_uid="audit_login_succeeded")
def _login_succeeded(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(action="auth.login.succeeded", actor=Actor.for_user(user), target=user)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))[:150]
    audit_record(action="auth.login.failed", actor=Actor.anonymous(username), data={"username": username})


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(action="auth.logout", actor=Actor.for_user(user), target=user)


_PRIVILEGE_FIELDS = ("is_active", "is_staff", "is_superuser")


@receiver(pre_save, sender=User, dispatch_uid="audit_user_credentials")
def _user_changed(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    if instance.pk is None:
        return
    # Every login saves last_login alone; only look up the stored row when a watched field may change.
    if update_fields is not None and not set(update_fields) & {"password", *_PRIVILEGE_FIELDS}:
        return
    before = sender.objects.filter(pk=instance.pk).values("password", *_PRIVILEGE_FIELDS).first()
    if before is None:
        return
    if before["password"] != instance.password:
        audit_record(action="auth.password.changed", target=instance)
    changed = {
        f: {"before": before[f], "after": getattr(instance, f)}
        for f in _PRIVILEGE_FIELDS
        if before[f] != getattr(instance, f)
    }
    if changed:
        audit_record(action="auth.user.privileges_changed", target=instance, data={"changes": changed})


def _m2m_event(action: str, instance: Any, change: str, model: Any, pk_set: set | None) -> None:
    audit_record(
        action=action,
        target=instance,
        data={"change": change, "related_model": model._meta.label_lower, "related_ids": sorted(pk_set or [])},
    )


_M2M_ACTIONS = {"post_add": "added", "post_remove": "removed", "post_clear": "cleared"}


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="audit_user_groups")
def _user_groups(sender: Any, instance: Any, action: str, model: Any, pk_set: set | None, **kwargs: Any) -> None:
    if action in _M2M_ACTIONS:
        _m2m_event("auth.user.groups_changed", instance, _M2M_ACTIONS[action], model, pk_set)


@receiver(m2m_changed, sender=User.user_permissions.through, dispatch_uid="audit_user_permissions")
def _user_permissions(sender: Any, instance: Any, action: str, model: Any, pk_set: set | None, **kwargs: Any) -> None:
    if action in _M2M_ACTIONS:
        _m2m_event("auth.user.permissions_changed", instance, _M2M_ACTIONS[action], model, pk_set)


@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="audit_group_permissions")
def _group_permissions(sender: Any, instance: Any, action: str, model: Any, pk_set: set | None, **kwargs: Any) -> None:
    if action in _M2M_ACTIONS:
        _m2m_event("auth.group.permissions_changed", instance, _M2M_ACTIONS[action], model, pk_set)
