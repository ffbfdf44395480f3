"""Credits tasks: the beat's expiry of reservations and lots (CREDITS_BEAT_SCHEDULE), and the CSV
import's validation and application (queued by the admin through `transaction.on_commit`)."""

from celery import shared_task
from django.utils import timezone

from audit.context import Actor
from credits import services


@shared_task(name="credits.reservations_expire", ignore_result=True)
def reservations_expire(**kwargs) -> int:
    return services.reservations_expire(now=timezone.now(), actor=Actor.system("credits.reservations_expire"))


@shared_task(name="credits.lots_expire", ignore_result=True)
def lots_expire(**kwargs) -> int:
    return services.lots_expire(now=timezone.now(), actor=Actor.system("credits.lots_expire"))


@shared_task(name="credits.import_validate", ignore_result=True, time_limit=1800, soft_time_limit=1750)
def import_validate(*, import_id: int, **kwargs) -> str:
    return services.credit_import_validate(import_id=import_id).status


@shared_task(name="credits.import_apply", ignore_result=True, time_limit=1800, soft_time_limit=1750)
def import_apply(*, import_id: int, actor_id: str = "", actor_label: str = "", **kwargs) -> str:
    actor = Actor(kind="staff", id=actor_id, label=actor_label) if actor_id else Actor.system("credits.import")
    return services.credit_import_apply(import_id=import_id, actor=actor, occurred_at=timezone.now()).status
