"""Prometheus gauges read from the database at scrape time (every process reports the same)."""

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

GAUGES = {
    "strongroom_disputes_overdue": "Disputes needing a response whose internal deadline (due_by) has passed.",
    "strongroom_disputes_due_within_24h": "Disputes needing a response due within the next 24 hours.",
    "strongroom_disputes_alerts_sent_total": "Deadline alerts recorded (one per dispute, stage and threshold).",
    "strongroom_disputes_open": "Disputes needing a response or under review.",
}


class DisputesCollector(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Declared without values, so registering at start-up does not query the database.
        for name, documentation in GAUGES.items():
            yield GaugeMetricFamily(name, documentation)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.utils import timezone

        from disputes.selectors import queue_counts

        try:
            counts = queue_counts(now=timezone.now())
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database is down
            logger.warning("disputes metrics unavailable", exc_info=True)
            return
        values = {
            "strongroom_disputes_overdue": counts.overdue,
            "strongroom_disputes_due_within_24h": counts.due_within_24h,
            "strongroom_disputes_alerts_sent_total": counts.alerts_sent,
            "strongroom_disputes_open": counts.needs_response + counts.under_review,
        }
        for name, value in values.items():
            yield GaugeMetricFamily(name, GAUGES[name], value=value)
