"""Scheduled disputes work (DISPUTES_BEAT_SCHEDULE): the deadline sweep; alert emails after commit."""

from celery import shared_task
from django.utils import timezone

from audit.context import Actor
from disputes import services


@shared_task(name="disputes.sweep_deadlines", ignore_result=True)
def sweep_deadlines(**kwargs) -> dict:
    result = services.disputes_sweep(now=timezone.now(), actor=Actor.system("disputes.sweep_deadlines"))
    return {"expired": result.expired, "alerts": result.alerts_recorded, "notifications": result.notifications}


@shared_task(name="disputes.send_alert_email", ignore_result=True, autoretry_for=(OSError,), max_retries=5)
def send_alert_email(*, dispute_id: int, stage: str, threshold_seconds: int, **kwargs) -> int:
    return services.alert_email_send(dispute_id=dispute_id, stage=stage, threshold_seconds=threshold_seconds)
