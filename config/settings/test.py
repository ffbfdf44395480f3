"""Test settings: the base settings plus what makes tests fast and hermetic."""

from config.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405

import secrets  # noqa: E402

SECRET_KEY = SECRET_KEY or secrets.token_urlsafe(64)  # noqa: F405
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

import base64  # noqa: E402

AUDIT_SIGNING_KEY = base64.b64encode(secrets.token_bytes(32)).decode()

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]  # noqa: F405

JWT_SIGNING_KEYS = "test1:" + base64.b64encode(secrets.token_bytes(32)).decode()
AXES_ENABLED = True
VAULT_LOCAL_KEYRING = "1:" + base64.b64encode(secrets.token_bytes(32)).decode()  # throw-away, per test run

# A loaded machine may take over a second to load the migration graph for /health/ready; the timeout
# itself is tested with its own, short value.
HEALTH_CHECK_TIMEOUT_SECONDS = 10.0
