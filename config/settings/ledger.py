"""Ledger settings. Imported by base.py (beat entries merged into CELERY_BEAT_SCHEDULE there)."""

from celery.schedules import crontab

from config.env import env

# Currencies the platform's chart of accounts (settlement, suspense, fee revenue …) is opened in.
LEDGER_CURRENCIES: list[str] = env.list("STRONGROOM_LEDGER_CURRENCIES", default=["USD", "EUR", "GBP"])
# The one transaction helper (ledger/retry.py): attempts on deadlock/serialization failure, first backoff.
LEDGER_RETRY_ATTEMPTS: int = env.int("STRONGROOM_LEDGER_RETRY_ATTEMPTS", default=6)
LEDGER_RETRY_BASE_DELAY_SECONDS: float = env.float("STRONGROOM_LEDGER_RETRY_BASE_DELAY", default=0.01)
# Pending transfers voided per run of the expiry task.
LEDGER_EXPIRE_BATCH_SIZE: int = env.int("STRONGROOM_LEDGER_EXPIRE_BATCH_SIZE", default=500)

LEDGER_BEAT_SCHEDULE: dict = {
    "ledger-expire-pending": {"task": "ledger.expire_pending", "schedule": 30.0, "options": {"expires": 25}},
    "ledger-verify": {"task": "ledger.verify", "schedule": crontab(hour=3, minute=15)},
}
