"""Scheduled audit work: chain every second, checkpoint hourly, verify nightly (see CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from audit import services


@shared_task(name="audit.chain_pending", ignore_result=True)
def chain_pending(**kwargs) -> int:
    return services.audit_chain_pending()


@shared_task(name="audit.checkpoint", ignore_result=True)
def checkpoint(**kwargs) -> int:
    return services.audit_checkpoint_create().sequence


@shared_task(name="audit.verify", ignore_result=True, time_limit=3600, soft_time_limit=3500)
def verify(**kwargs) -> bool:
    services.audit_chain_pending()
    return services.audit_verify().ok
