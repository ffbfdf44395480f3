"""Lockouts: tell the account holder and record it (django-axes emits the signal)."""

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.dispatch import receiver

from audit.context import Actor
from audit.services import audit_record


@receiver(user_locked_out, dispatch_uid="strongroom_lockout")
def _locked_out(sender: Any, request: Any = None, username: str | None = None, ip_address: str | None = None,
                **kwargs: Any) -> None:  # fmt: skip
    user = get_user_model().objects.filter(username=username).first() if username else None
    audit_record(
        action="auth.lockout",
        actor=Actor.anonymous(username or ""),
        target=user,
        data={"username": username or "", "ip": ip_address or ""},
    )
    if user is not None and user.email:
        send_mail(
            subject="Strongroom: your account was locked",
            message=(
                f"Your Strongroom account {user.get_username()} was locked after repeated failed logins from "
                f"{ip_address or 'an unknown address'}. If this was not you, tell your security team. The lock "
                "lifts by itself after the cool-off period, or a colleague with the unlock permission can lift it."
            ),
            from_email=None,
            recipient_list=[user.email],
            fail_silently=True,
        )
