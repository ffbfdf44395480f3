"""Scheduled ledger work (LEDGER_BEAT_SCHEDULE): void overdue holds, verify the ledger nightly."""

from celery import shared_task
from django.utils import timezone

from audit.context import Actor
from ledger import services


@shared_task(name="ledger.expire_pending", ignore_result=True)
def expire_pending(**kwargs) -> int:
    return services.transfers_expire(now=timezone.now(), actor=Actor.system("ledger.expire_pending"))


@shared_task(name="ledger.verify", ignore_result=True, time_limit=3600, soft_time_limit=3500)
def verify(**kwargs) -> bool:
    return services.ledger_verify(record=True, actor=Actor.system("ledger.verify")).is_ok
