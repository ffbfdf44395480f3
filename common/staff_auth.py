"""Staff login with a second factor (TOTP via django-otp), first-login enrolment, backup codes.

- Login: username, password and a 6-digit code. A wrong code counts as a failed login (django-axes
  locks the username/IP pair after STRONGROOM_LOGIN_FAILURE_LIMIT failures).
- A staff user without a confirmed device logs in with the password only and can then reach
  nothing but the enrolment page: scan the QR code (rendered here, no external service), confirm
  with a code, receive ten one-time backup codes, shown once.
"""

import base64
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.context import Actor
from audit.services import audit_record
from common.client_ip import client_ip
from common.ratelimit import failures_exceeded

BACKUP_CODE_COUNT = 10
_SESSION_BACKUP_CODES = "strongroom_backup_codes"


def _ip_key(group: str, request: HttpRequest) -> str:
    return client_ip(request)


def ip_login_failures_exceeded(request: HttpRequest, *, increment: bool = False) -> bool:
    """Failed staff logins per client IP (any username). Only failures are counted."""
    return failures_exceeded(
        request, group="admin-login-failures", key=_ip_key, rate=settings.LOGIN_IP_FAILURE_RATE, increment=increment
    )


class StaffLoginForm(AdminAuthenticationForm):
    otp_token = forms.CharField(
        label="Authenticator code",
        required=False,
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text="The 6-digit code from your authenticator app, or a backup code.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # password check (axes counts failures through Django's signal)
        user = self.get_user()
        if user is None or not user_has_device(user):
            return cleaned  # first login: the enrolment page is all this session can reach
        token = (cleaned.get("otp_token") or "").strip().replace(" ", "")
        device = match_token(user, token) if token else None
        if device is None:
            user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=self.request)
            audit_record(action="auth.otp.failed", actor=Actor.for_user(user), target=user)
            raise forms.ValidationError("Enter a valid authenticator code.", code="invalid_otp")
        user.otp_device = device  # django-otp marks the session verified on login
        return cleaned


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")


def totp_secret_base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def unconfirmed_totp_device(user: Any) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def otp_enrol_confirm(*, user: Any, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the device with a code; returns fresh backup codes, or None when the code is wrong."""
    if not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    backup, _ = StaticDevice.objects.get_or_create(user=user, name="Backup codes", defaults={"confirmed": True})
    backup.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=backup, token=code) for code in codes)
    audit_record(action="auth.otp.enrolled", actor=Actor.for_user(user), target=user, data={"device": device.pk})
    return codes


@never_cache
def otp_enroll_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.is_authenticated and user.is_staff):
        return redirect(reverse("admin:login"))
    if user_has_device(user):
        if user.is_verified():
            return redirect(reverse("admin:index"))
        return redirect(reverse("admin:login"))  # a device exists: log in with it
    device = unconfirmed_totp_device(user)
    error = ""
    if request.method == "POST":
        codes = otp_enrol_confirm(user=user, device=device, token=request.POST.get("otp_token", "").strip())
        if codes is not None:
            otp_login(request, device)
            request.session[_SESSION_BACKUP_CODES] = codes
            return redirect(reverse("admin:otp_backup_codes"))
        user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)
        audit_record(action="auth.otp.failed", actor=Actor.for_user(user), target=user)
        error = "That code did not match. Check the time on your phone and try the current code."
    context = {
        "title": "Set up two-factor authentication",
        "qr_svg": mark_safe(_qr_svg(device.config_url)),  # noqa: S308 - SVG generated here from our own data
        "secret": totp_secret_base32(device),
        "error": error,
        "site_header": "Strongroom",
        "has_permission": False,
    }
    return render(request, "admin/otp_enroll.html", context)


@never_cache
def otp_backup_codes_view(request: HttpRequest) -> HttpResponse:
    codes = request.session.pop(_SESSION_BACKUP_CODES, None)
    if not codes:
        messages.info(request, "Backup codes are shown only once.")
        return redirect(reverse("admin:index"))
    return render(
        request, "admin/otp_backup_codes.html", {"title": "Your backup codes", "codes": codes, "has_permission": True}
    )
