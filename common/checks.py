"""Deployment safety checks (`manage.py check --deploy`, and at every server start outside dev mode).

Each refuses a configuration that would be unsafe with card data and money, and says how to fix it.
Dev mode (`STRONGROOM_DEV=1`) is exempt: it runs on generated local secrets by design.
"""

import logging
from urllib.parse import unquote

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

MIN_SECRET_KEY_LENGTH = 50
MIN_SECRET_KEY_UNIQUE_CHARACTERS = 10


def _secret_key() -> str:
    try:
        return settings.SECRET_KEY
    except ImproperlyConfigured:  # Django refuses to hand out an empty key
        return ""


@checks.register(checks.Tags.security, deploy=True)
def check_secret_key(app_configs=None, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001
    if settings.DEV_MODE:
        return []
    key = _secret_key()
    if not key:
        return [
            checks.Error(
                "SECRET_KEY is not set.",
                hint="Set SECRET_KEY (or SECRET_KEY_FILE) to at least 50 random characters, e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`.",
                id="strongroom.E001",
            )
        ]
    if (
        len(key) < MIN_SECRET_KEY_LENGTH
        or len(set(key)) < MIN_SECRET_KEY_UNIQUE_CHARACTERS
        or key.startswith("django-insecure")
    ):
        return [
            checks.Error(
                "SECRET_KEY is too short or too predictable.",
                hint=f"Use at least {MIN_SECRET_KEY_LENGTH} random characters with at least "
                f"{MIN_SECRET_KEY_UNIQUE_CHARACTERS} distinct ones, e.g. from secrets.token_urlsafe(64).",
                id="strongroom.E002",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_debug(app_configs=None, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001
    if settings.DEV_MODE or not settings.DEBUG:
        return []
    return [
        checks.Error(
            "DEBUG is on in production mode: error pages would show code, settings and data.",
            hint="Unset STRONGROOM_DEBUG, or use STRONGROOM_DEV=1 on a development machine only.",
            id="strongroom.E003",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def check_allowed_hosts(app_configs=None, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001
    if settings.DEV_MODE:
        return []
    hosts = list(settings.ALLOWED_HOSTS)
    if not hosts or any(host in {"*", "."} for host in hosts):
        return [
            checks.Error(
                "ALLOWED_HOSTS is empty or a wildcard.",
                hint="Set ALLOWED_HOSTS to the comma-separated host names this service answers to.",
                id="strongroom.E004",
            )
        ]
    return []


@checks.register(checks.Tags.database, deploy=True)
def check_database(app_configs=None, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001
    if settings.DEV_MODE:
        return []
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        return [
            checks.Warning(
                "The embedded SQLite database is in use in production mode.",
                hint="Set DATABASE_URL to PostgreSQL: its triggers enforce the ledger and audit invariants.",
                id="strongroom.W001",
            )
        ]
    password = unquote(str(database.get("PASSWORD") or ""))
    if not password or password.lower() in settings.DEFAULT_DATABASE_PASSWORDS:
        return [
            checks.Error(
                "The database password is empty or a well-known default.",
                hint="Give the database role a long random password and put it in DATABASE_URL (or DATABASE_URL_FILE).",
                id="strongroom.E005",
            )
        ]
    return []


def refuse_unsafe_startup() -> None:
    """Run the deployment checks at server start; refuse to serve when any error remains."""
    if settings.DEV_MODE:
        return
    messages = checks.run_checks(include_deployment_checks=True)
    errors = [m for m in messages if m.level >= checks.ERROR and not m.is_silenced()]
    for message in messages:
        if message.level < checks.ERROR and not message.is_silenced():
            logger.warning("deployment check: %s", message)
    if errors:
        raise ImproperlyConfigured("Refusing to start:\n" + "\n".join(str(error) for error in errors))


@checks.register(checks.Tags.security, deploy=True)
def check_jwt_keys(app_configs=None, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001
    if settings.DEV_MODE or settings.JWT_SIGNING_KEYS:
        return []
    return [
        checks.Error(
            "No API token signing key: the API cannot issue or verify access tokens.",
            hint="Set STRONGROOM_JWT_SIGNING_KEYS (or _FILE) to 'kid:' + base64 of 32 random bytes; "
            "prepend a new key to rotate, keep the old one until its tokens expire.",
            id="strongroom.E007",
        )
    ]
