"""Strongroom settings. Everything comes from the environment (see README, "Configuration").

Production mode is the default: DEBUG off, no generated secrets. `STRONGROOM_DEV=1` (set by
`make run`) switches on dev mode: DEBUG, readable logs, a SECRET_KEY generated into var/.
"""

import secrets

from celery.schedules import crontab

from config.env import BASE_DIR, VAR_DIR, env

DEV_MODE = env.bool("STRONGROOM_DEV", default=False)
DEBUG = env.bool("STRONGROOM_DEBUG", default=DEV_MODE)

VAR_DIR.mkdir(parents=True, exist_ok=True)


def _dev_secret_key() -> str:
    """A per-checkout key kept in var/ (ignored by git) so sessions survive restarts."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


# Empty in production when unset: the system check strongroom.E001 refuses to start.
SECRET_KEY = env("SECRET_KEY", default="") or (_dev_secret_key() if DEV_MODE else "")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEV_MODE else [])
CSRF_TRUSTED_ORIGINS = env.list("STRONGROOM_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_prometheus",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "common",
    "tenants",
    "audit",
    "vault",
    "ledger",
    "disputes",
    "reserves",
    "credits",
    # Last, so every app's ready() (e.g. audit's admin hook) runs before admin autodiscovery.
    "common.admin_config.StrongroomAdminConfig",
]

MIDDLEWARE = [
    "common.request_id.RequestIdMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "common.security.StaffTwoFactorMiddleware",
    "audit.middleware.AuditContextMiddleware",
    "common.security.IgnoredIdentityHeadersMiddleware",
    "common.ratelimit.RateLimitHeadersMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "common.security.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite under var/ is the embedded default; PostgreSQL is the production database.
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'strongroom.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so the web server, worker and beat
    # queue for it instead of failing with "database is locked" on lock upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("STRONGROOM_DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery ---------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "strongroom"}}

CELERY_QUEUE_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"socket_timeout": 5, "socket_connect_timeout": 5}
else:
    # kombu's filesystem transport: worker and beat run with no server at all.
    for _folder in ("out", "processed", "control"):
        (CELERY_QUEUE_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "out"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "out"),
        "processed_folder": str(CELERY_QUEUE_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
        "polling_interval": 0.1,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ALWAYS_EAGER = env.bool("STRONGROOM_CELERY_EAGER", default=False)
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # Django's LOGGING (with its masking filter) applies to workers too
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Periodic work, declared in code (each task lives in its app's `tasks.py`).
CELERY_BEAT_SCHEDULE: dict = {
    "audit-chain": {"task": "audit.chain_pending", "schedule": 1.0, "options": {"expires": 5}},
    "audit-checkpoint": {"task": "audit.checkpoint", "schedule": crontab(minute=0)},
    "audit-verify": {"task": "audit.verify", "schedule": crontab(hour=2, minute=30)},
    "idempotency-cleanup": {"task": "common.purge_idempotency_keys", "schedule": crontab(minute=17)},
}

# --- Auth (PCI DSS 8.2.8, 8.3.4, 8.3.6, 8.3.7) -----------------------------------------------------
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "common.passwords.LettersAndDigitsValidator"},
    {"NAME": "common.passwords.PasswordHistoryValidator", "OPTIONS": {"remember": 4}},
]
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"
# Sessions end after 15 idle minutes: every request pushes the expiry forward.
SESSION_COOKIE_AGE = env.int("STRONGROOM_SESSION_IDLE_SECONDS", default=15 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Brute force: lock a username+IP pair after N failed logins (wrong OTP codes count) for 30 minutes.
AXES_FAILURE_LIMIT = env.int("STRONGROOM_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("STRONGROOM_LOCKOUT_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "common.client_ip.client_ip"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_VERBOSE = False
# Failed logins per client IP (all usernames) before further attempts from it are refused.
LOGIN_IP_FAILURE_RATE = env("STRONGROOM_LOGIN_IP_FAILURE_RATE", default="30/h")
OTP_TOTP_ISSUER = "Strongroom"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise expects it even before collectstatic
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEV_MODE
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# --- HTTP security ----------------------------------------------------------------------------
SESSION_COOKIE_SECURE = not DEV_MODE
CSRF_COOKIE_SECURE = not DEV_MODE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_SSL_REDIRECT = env.bool("STRONGROOM_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("STRONGROOM_HSTS_SECONDS", default=0)
# Behind a TLS-terminating proxy that sets this header (only trust it when one is configured).
if env.bool("STRONGROOM_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "EXCEPTION_HANDLER": "common.errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "common.pagination.LimitCursorPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "common.filters.WhitelistOrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["common.api_auth.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["common.api_auth.HasRequiredScope"],
    "DEFAULT_THROTTLE_CLASSES": ["common.ratelimit.ApiClientRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "common.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Strongroom API",
    "DESCRIPTION": "Payments back-office: vault, ledger, disputes, reserves, credits, audit.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Choice sets that share a field name ("status") get stable component names.
    "ENUM_NAME_OVERRIDES": {
        "DisputeStatusEnum": "disputes.choices.Status",
    },
}


# --- API clients, tokens, rate limits, idempotency ------------------------------------------------
def _dev_jwt_keys() -> str:
    """Dev only: one Ed25519 signing key, kept in var/ (git-ignored)."""
    path = VAR_DIR / "jwt_signing_keys"
    if not path.exists():
        import base64

        path.write_text(f"dev1:{base64.b64encode(secrets.token_bytes(32)).decode()}")
        path.chmod(0o600)
    return path.read_text().strip()


# "kid:base64-seed,kid:base64-seed": Ed25519 keys; the first signs, all verify (rotation without
# invalidating tokens already issued). System check strongroom.E007 refuses an empty list.
JWT_SIGNING_KEYS = env("STRONGROOM_JWT_SIGNING_KEYS", default="") or (_dev_jwt_keys() if DEV_MODE else "")
JWT_LIFETIME_SECONDS = min(env.int("STRONGROOM_JWT_LIFETIME_SECONDS", default=900), 900)
JWT_ISSUER = "strongroom"
JWT_AUDIENCE = "strongroom-api"
# Default per-client GCRA rate limit (requests per second, burst); each client may override.
API_RATE_LIMIT_DEFAULT = (env.float("STRONGROOM_API_RATE", default=50.0), env.int("STRONGROOM_API_BURST", default=100))
# Endpoint classes: which fail closed when the limiter's store (Redis) is unreachable.
RATE_LIMIT_FAIL_CLOSED_CLASSES = set(env.list("STRONGROOM_RATE_LIMIT_FAIL_CLOSED", default=["detokenize"]))
TOKEN_ENDPOINT_IP_RATE = env("STRONGROOM_TOKEN_IP_RATE", default="60/m")
# Every token request, per client IP (rate per second, burst): a client needs one token per 15 minutes.
TOKEN_ENDPOINT_RATE_LIMIT = (
    env.float("STRONGROOM_TOKEN_RATE", default=5.0),
    env.int("STRONGROOM_TOKEN_BURST", default=20),
)
IDEMPOTENCY_TTL_HOURS = 24
IDEMPOTENCY_IN_PROGRESS_TIMEOUT_SECONDS = 60

# --- Observability ----------------------------------------------------------------------------
REQUEST_ID_HEADER = "X-Request-ID"
# /metrics is readable only from these networks or with this bearer token.
METRICS_ALLOWED_NETWORKS = env.list("STRONGROOM_METRICS_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"])
METRICS_TOKEN = env("STRONGROOM_METRICS_TOKEN", default="")
HEALTH_CHECK_TIMEOUT_SECONDS = env.float("STRONGROOM_HEALTH_CHECK_TIMEOUT", default=1.0)
PROMETHEUS_EXPORT_MIGRATIONS = False

LOG_LEVEL = env("STRONGROOM_LOG_LEVEL", default="INFO")
LOG_FORMAT = env("STRONGROOM_LOG_FORMAT", default="text" if DEV_MODE else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "common.request_id.RequestIdLogFilter"},
        "mask_sensitive": {"()": "common.logging.SensitiveDataFilter"},
    },
    "formatters": {
        "json": {"()": "common.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            # Masking runs on every handler, so nothing reaches an output unmasked.
            "filters": ["request_id", "mask_sensitive"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "celery": {"level": LOG_LEVEL},
    },
}

_EMAIL_BACKEND = "console" if DEV_MODE else "smtp"
EMAIL_BACKEND = env("STRONGROOM_EMAIL_BACKEND", default=f"django.core.mail.backends.{_EMAIL_BACKEND}.EmailBackend")
EMAIL_HOST = env("STRONGROOM_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("STRONGROOM_EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env("STRONGROOM_DEFAULT_FROM_EMAIL", default="strongroom@localhost")

# Passwords a production DATABASE_URL must not use (system check strongroom.E005).
DEFAULT_DATABASE_PASSWORDS = {"postgres", "password", "changeme", "strongroom", "admin", "secret"}
TRUSTED_PROXY_COUNT = env.int("STRONGROOM_TRUSTED_PROXY_COUNT", default=0)


# --- Audit ------------------------------------------------------------------------------------
def _dev_audit_signing_key() -> str:
    """Dev only: an Ed25519 seed kept in var/ (git-ignored)."""
    path = VAR_DIR / "audit_signing_key"
    if not path.exists():
        import base64

        path.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
        path.chmod(0o600)
    return path.read_text().strip()


# Base64 of a 32-byte Ed25519 private seed; signs audit checkpoints (system check strongroom.E006).
AUDIT_SIGNING_KEY = env("STRONGROOM_AUDIT_SIGNING_KEY", default="") or (_dev_audit_signing_key() if DEV_MODE else "")
AUDIT_CHAIN_LAG_WARNING_SECONDS = env.int("STRONGROOM_AUDIT_CHAIN_LAG_WARNING", default=5)

# --- Per-app settings (each app's own file; beat entries merged here) -------------------------------
from config.settings.credits import *  # noqa: E402,F403
from config.settings.disputes import *  # noqa: E402,F403
from config.settings.ledger import *  # noqa: E402,F403
from config.settings.reserves import *  # noqa: E402,F403
from config.settings.vault import *  # noqa: E402,F403

CELERY_BEAT_SCHEDULE.update(VAULT_BEAT_SCHEDULE)  # noqa: F405
CELERY_BEAT_SCHEDULE.update(LEDGER_BEAT_SCHEDULE)  # noqa: F405
CELERY_BEAT_SCHEDULE.update(DISPUTES_BEAT_SCHEDULE)  # noqa: F405
CELERY_BEAT_SCHEDULE.update(RESERVES_BEAT_SCHEDULE)  # noqa: F405
CELERY_BEAT_SCHEDULE.update(CREDITS_BEAT_SCHEDULE)  # noqa: F405
