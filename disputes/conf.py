"""The disputes app's settings, read with their defaults (config/settings/disputes.py sets them).

Read through these functions, never at import time, so tests can override them with `settings`.
"""

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Days the acquirer's internal cut-off sits before the network's deadline, per network.
    "DISPUTES_INTERNAL_CUTOFF_DAYS": {"visa": 7, "mastercard": 10, "amex": 5, "discover": 5},
    # Chargeback ("dispute received") fee per network, minor units per currency. Not charged for inquiries.
    "DISPUTES_FEES": {
        "visa": {"USD": 1500, "EUR": 1500, "GBP": 1500},
        "mastercard": {"USD": 1500, "EUR": 1500, "GBP": 1500},
        "amex": {"USD": 1500, "EUR": 1500, "GBP": 1500},
        "discover": {"USD": 1500, "EUR": 1500, "GBP": 1500},
    },
    # Alert thresholds before due_by, in seconds (7 d, 3 d, 1 d, 4 h).
    "DISPUTES_ALERT_THRESHOLDS_SECONDS": [7 * 86400, 3 * 86400, 86400, 4 * 3600],
    "DISPUTES_SWEEP_BATCH_SIZE": 500,
    "DISPUTES_SWEEP_INTERVAL_SECONDS": 900.0,
    "DISPUTES_EVIDENCE_MAX_BYTES": 10 * 1024 * 1024,
    # Monitoring programmes: a merchant is flagged when both its monthly ratio and its count exceed them.
    "DISPUTES_MONITORING_PROGRAMMES": [
        {"name": "Visa VAMP", "ratio": "0.015", "count": 1500},
        {"name": "Mastercard ECP", "ratio": "0.015", "count": 100},
    ],
}


def get(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


def internal_cutoff(network: str) -> timedelta:
    return timedelta(days=int(get("DISPUTES_INTERNAL_CUTOFF_DAYS").get(network, 0)))


def chargeback_fee(network: str, currency_code: str) -> int:
    return int(get("DISPUTES_FEES").get(network, {}).get(currency_code, 0))


def alert_thresholds() -> list[timedelta]:
    """Thresholds, widest first."""
    return sorted((timedelta(seconds=int(s)) for s in get("DISPUTES_ALERT_THRESHOLDS_SECONDS")), reverse=True)


def monitoring_programmes() -> list[dict[str, Any]]:
    return [
        {**p, "ratio": Decimal(str(p["ratio"])), "count": int(p["count"])}
        for p in get("DISPUTES_MONITORING_PROGRAMMES")
    ]
