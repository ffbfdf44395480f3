"""Prometheus gauges read from the database at scrape time, so every process reports the same."""

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

GAUGES = {
    "strongroom_audit_chain_head_sequence": "Sequence of the last chained event.",
    "strongroom_audit_unchained_events": "Committed events not yet chained.",
    "strongroom_audit_chain_lag_seconds": "Age of the oldest unchained event.",
    "strongroom_audit_verification_ok": "1 if the last verification passed, 0 if it found a break.",
    "strongroom_audit_verification_timestamp_seconds": "When the last verification finished.",
}


class AuditCollector(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Declared without values, so registering at start-up does not query the database.
        for name, documentation in GAUGES.items():
            yield GaugeMetricFamily(name, documentation)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from audit.selectors import chain_state

        try:
            state = chain_state()
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database is down
            logger.warning("audit metrics unavailable", exc_info=True)
            return
        values = {
            "strongroom_audit_chain_head_sequence": state.head_sequence,
            "strongroom_audit_unchained_events": state.unchained,
            "strongroom_audit_chain_lag_seconds": state.lag_seconds,
        }
        if state.last_verification is not None:
            values["strongroom_audit_verification_ok"] = 1 if state.last_verification.is_ok else 0
            values["strongroom_audit_verification_timestamp_seconds"] = state.last_verification.finished_at.timestamp()
        for name, value in values.items():
            yield GaugeMetricFamily(name, GAUGES[name], value=value)
