"""Benchmark settings: production settings, with keys generated for the run (never for serving)."""

import base64
import secrets

from config.settings.base import *  # noqa: F403

AUDIT_SIGNING_KEY = AUDIT_SIGNING_KEY or base64.b64encode(secrets.token_bytes(32)).decode()  # noqa: F405
CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Admin pages are rendered in-process (bench/disputes.py) without a collectstatic run.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
# Tasks run eagerly here, so alert emails are sent inside what is timed: keep them in memory, not SMTP.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
