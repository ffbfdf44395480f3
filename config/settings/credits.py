"""Credits settings. Imported by base.py (beat entries merged into CELERY_BEAT_SCHEDULE there)."""

from config.env import env

# Platform-side ledger accounts (issued, redeemed, breakage) are opened per unit in this many shards;
# a wallet posts against shard `wallet.pk % shards`, so consumptions of different wallets do not all
# queue on one counterparty account row.
CREDITS_ACCOUNT_SHARDS: int = env.int("STRONGROOM_CREDITS_ACCOUNT_SHARDS", default=8)
# Reservations: default and maximum time to live.
CREDITS_RESERVATION_DEFAULT_TTL_SECONDS: int = env.int("STRONGROOM_CREDITS_RESERVATION_TTL", default=900)
CREDITS_RESERVATION_MAX_TTL_SECONDS: int = env.int("STRONGROOM_CREDITS_RESERVATION_MAX_TTL", default=7 * 86400)
# Rows handled per run of the beat tasks (each wallet / reservation in its own transaction).
CREDITS_EXPIRE_BATCH_SIZE: int = env.int("STRONGROOM_CREDITS_EXPIRE_BATCH_SIZE", default=500)
# CSV import: rows validated per committed progress step, and the largest file accepted.
CREDITS_IMPORT_CHUNK_ROWS: int = env.int("STRONGROOM_CREDITS_IMPORT_CHUNK_ROWS", default=500)
CREDITS_IMPORT_MAX_ROWS: int = env.int("STRONGROOM_CREDITS_IMPORT_MAX_ROWS", default=50_000)
# "Expiring soon" admin filter window.
CREDITS_EXPIRING_SOON_DAYS: int = env.int("STRONGROOM_CREDITS_EXPIRING_SOON_DAYS", default=7)

CREDITS_BEAT_SCHEDULE: dict = {
    "credits-reservations-expire": {
        "task": "credits.reservations_expire", "schedule": 30.0, "options": {"expires": 25},
    },
    "credits-lots-expire": {"task": "credits.lots_expire", "schedule": 60.0, "options": {"expires": 55}},
}  # fmt: skip
