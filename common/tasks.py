from celery import shared_task

from common.idempotency import idempotency_purge_expired


@shared_task(name="common.purge_idempotency_keys", ignore_result=True)
def purge_idempotency_keys(**kwargs) -> int:
    return idempotency_purge_expired()
