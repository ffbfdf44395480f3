"""Deadlines: the network's for a stage (reason-code window) and the acquirer's internal cut-off before it.

Windows are calendar days counted from when the stage started, in UTC (exact 24-hour days, so daylight
saving never shifts them). The internal cut-off per network (DISPUTES_INTERNAL_CUTOFF_DAYS) is capped
at half the window, so short windows (arbitration: 10 days) still leave time to respond.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from common.errors import DomainError
from disputes import conf


class NoResponseWindow(DomainError):
    code = "no_response_window"
    status_code = 409
    default_message = "The reason code has no response window for this stage."


@dataclass(frozen=True)
class DueDates:
    network_due_by: datetime
    due_by: datetime


def due_dates(*, network: str, stage: str, response_days: dict | None, start: datetime) -> DueDates:
    days = (response_days or {}).get(stage)
    if not days:
        raise NoResponseWindow(fields={"stage": stage})
    window = timedelta(days=int(days))
    network_due_by = start.astimezone(UTC) + window
    cutoff = min(conf.internal_cutoff(network), timedelta(days=int(days) // 2))
    return DueDates(network_due_by=network_due_by, due_by=network_due_by - cutoff)


def urgency_class(*, due_by: datetime, now: datetime) -> str:
    """CSS class for the time-left column: overdue, within a day, within three days, or none."""
    left = due_by - now
    if left <= timedelta(0):
        return "sr-urgent-overdue"
    if left <= timedelta(days=1):
        return "sr-urgent-day"
    if left <= timedelta(days=3):
        return "sr-urgent-days"
    return ""


def format_time_left(*, due_by: datetime, now: datetime) -> str:
    left = due_by - now
    sign = "overdue " if left < timedelta(0) else ""
    seconds = abs(int(left.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{sign}{days}d {hours}h"
    return f"{sign}{hours}h {rest // 60}m"
