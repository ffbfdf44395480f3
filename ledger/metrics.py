"""Prometheus gauges read from the database at scrape time (every process reports the same)."""

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

GAUGES = {
    "strongroom_ledger_verification_ok": "1 if the last ledger verification found no drift, 0 otherwise.",
    "strongroom_ledger_drift_minor_units": "Sum of |stored - recomputed| totals found by the last verification.",
    "strongroom_ledger_verification_timestamp_seconds": "When the last ledger verification finished.",
    "strongroom_ledger_pending_transfers": "Holds (pending transfers) not yet posted or voided.",
    "strongroom_ledger_overdue_pending_transfers": "Holds past their timeout that the expiry task has not voided yet.",
}


class LedgerCollector(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Declared without values, so registering at start-up does not query the database.
        for name, documentation in GAUGES.items():
            yield GaugeMetricFamily(name, documentation)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.utils import timezone

        from ledger.selectors import last_verification, pending_transfers

        try:
            verification = last_verification()
            now = timezone.now()
            values: dict[str, float] = {
                "strongroom_ledger_pending_transfers": pending_transfers().count(),
                "strongroom_ledger_overdue_pending_transfers": pending_transfers(now=now, expired_only=True).count(),
            }
            if verification is not None:
                values["strongroom_ledger_verification_ok"] = 1 if verification.is_ok else 0
                values["strongroom_ledger_drift_minor_units"] = verification.drift_minor_units
                values["strongroom_ledger_verification_timestamp_seconds"] = verification.finished_at.timestamp()
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database is down
            logger.warning("ledger metrics unavailable", exc_info=True)
            return
        for name, value in values.items():
            yield GaugeMetricFamily(name, GAUGES[name], value=value)
