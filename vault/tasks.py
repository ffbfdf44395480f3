"""Vault background work: the daily cryptoperiod reminder and the rewrap job started from the admin."""

from celery import shared_task

from audit.context import Actor
from vault import services


@shared_task(name="vault.key_cryptoperiod_remind", ignore_result=True)
def key_cryptoperiod_remind(**kwargs) -> int:
    return services.key_cryptoperiod_remind()


@shared_task(name="vault.rewrap", ignore_result=True, time_limit=6 * 3600, soft_time_limit=6 * 3600 - 60)
def rewrap(*, actor_user_id: int | None = None, **kwargs) -> int:
    actor = Actor.system("vault.rewrap")
    if actor_user_id is not None:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(pk=actor_user_id).first()
        if user is not None:
            actor = Actor.for_user(user)
    return services.vault_rewrap(actor=actor).cards
