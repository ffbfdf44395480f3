import os

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

# Playwright's sync API runs an event loop in the test thread; Django must still allow ORM calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def verify_second_factor(client, user) -> TOTPDevice:  # noqa: ANN001
    """Log `user` in on `client` as if they had passed password and OTP (django-otp session key)."""
    from django_otp import DEVICE_ID_SESSION_KEY

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="test authenticator", confirmed=True
    )
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


@pytest.fixture
def admin_client(client, admin_user):  # noqa: ANN001, ANN201
    """pytest-django's admin_client, past the second factor (every admin page requires it)."""
    verify_second_factor(client, admin_user)
    return client
