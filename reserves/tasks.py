"""Scheduled reserves work (RESERVES_BEAT_SCHEDULE): the daily engine run and approval expiry."""

from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from audit.context import Actor
from reserves import services


@shared_task(name="reserves.run_engine", ignore_result=True)
def run_engine(*, run_date: str | None = None, **kwargs) -> dict:
    """The engine for `run_date` (ISO date), by default the UTC day that just ended."""
    now = timezone.now()
    day = date.fromisoformat(run_date) if run_date else now.date() - timedelta(days=1)
    result = services.reserve_engine_run(run_date=day, actor=Actor.system("reserves.run_engine"), now=now)
    return {"run_date": day.isoformat(), "merchants": len(result.runs), "skipped": result.skipped,
            "held": result.held, "released": result.released, "failed": len(result.failed)}  # fmt: skip


@shared_task(name="reserves.expire_approvals", ignore_result=True)
def expire_approvals(**kwargs) -> int:
    return services.approvals_expire(now=timezone.now(), actor=Actor.system("reserves.expire_approvals"))
