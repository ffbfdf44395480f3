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


@pytest.fixture(autouse=True)
def _reset_celery_join_flag():
    """Eager `apply_async` sets and restores a process-global "join would block" flag without a lock, so
    eager tasks started from two threads of one test (the concurrent sweeps) can leave it set, and a later
    test's `result.get()` then fails with "Never call result.get() within a task". Real workers never run
    eager; the tests put the flag back after each test."""
    yield
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
