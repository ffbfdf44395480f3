"""Reserves settings. Imported by base.py (beat entries merged into CELERY_BEAT_SCHEDULE there).

Defaults mirror reserves/conf.py, which the app reads through.
"""

from celery.schedules import crontab

from config.env import env

# Open (pending) requests allowed per (merchant, action, payload_hash): 1 = no duplicates.
RESERVES_APPROVAL_MAX_OPEN_PER_PAYLOAD: int = env.int("STRONGROOM_RESERVES_MAX_OPEN_PER_PAYLOAD", default=1)
# Requests one requester (staff user or API client) may create per hour.
RESERVES_APPROVAL_MAX_PER_REQUESTER_HOUR: int = env.int("STRONGROOM_RESERVES_MAX_PER_REQUESTER_HOUR", default=10)
# Reference of the partner that platform API clients and platform staff without a membership act for.
RESERVES_PLATFORM_PARTNER: str = env("STRONGROOM_RESERVES_PLATFORM_PARTNER", default="")

RESERVES_BEAT_SCHEDULE: dict = {
    # The day that just ended (UTC), shortly after midnight.
    "reserves-engine-daily": {"task": "reserves.run_engine", "schedule": crontab(hour=0, minute=20)},
    "reserves-approvals-expire": {"task": "reserves.expire_approvals", "schedule": crontab(minute="*/5")},
}
