"""Disputes settings. Imported by base.py (beat entries merged into CELERY_BEAT_SCHEDULE there).

Defaults mirror disputes/conf.py, which the app reads through (so it also works before this file is imported).
"""

from config.env import env

# Days the acquirer's internal cut-off (due_by) sits before the network's deadline (network_due_by).
DISPUTES_INTERNAL_CUTOFF_DAYS: dict[str, int] = {
    "visa": env.int("STRONGROOM_DISPUTES_CUTOFF_VISA", default=7),
    "mastercard": env.int("STRONGROOM_DISPUTES_CUTOFF_MASTERCARD", default=10),
    "amex": env.int("STRONGROOM_DISPUTES_CUTOFF_AMEX", default=5),
    "discover": env.int("STRONGROOM_DISPUTES_CUTOFF_DISCOVER", default=5),
}
# Chargeback fee charged to the merchant when a chargeback is opened, minor units per network and currency.
DISPUTES_FEES: dict[str, dict[str, int]] = {
    network: {"USD": 1500, "EUR": 1500, "GBP": 1500} for network in ("visa", "mastercard", "amex", "discover")
}
# Deadline alerts before due_by (seconds): 7 d, 3 d, 1 d, 4 h.
DISPUTES_ALERT_THRESHOLDS_SECONDS: list[int] = [
    int(s) for s in env.list("STRONGROOM_DISPUTES_ALERT_THRESHOLDS", default=["604800", "259200", "86400", "14400"])
]
DISPUTES_SWEEP_INTERVAL_SECONDS: float = env.float("STRONGROOM_DISPUTES_SWEEP_INTERVAL", default=900.0)
DISPUTES_SWEEP_BATCH_SIZE: int = env.int("STRONGROOM_DISPUTES_SWEEP_BATCH_SIZE", default=500)
DISPUTES_EVIDENCE_MAX_BYTES: int = env.int("STRONGROOM_DISPUTES_EVIDENCE_MAX_BYTES", default=10 * 1024 * 1024)
# Monthly dispute ratio (disputes / card captures) and count above which a programme flags a merchant.
DISPUTES_MONITORING_PROGRAMMES: list[dict] = [
    {"name": "Visa VAMP", "ratio": "0.015", "count": 1500},
    {"name": "Mastercard ECP", "ratio": "0.015", "count": 100},
]

DISPUTES_BEAT_SCHEDULE: dict = {
    "disputes-sweep-deadlines": {
        "task": "disputes.sweep_deadlines",
        "schedule": DISPUTES_SWEEP_INTERVAL_SECONDS,
        "options": {"expires": DISPUTES_SWEEP_INTERVAL_SECONDS * 0.9},
    },
}
