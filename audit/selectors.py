"""Reads of the audit trail: chain state for the dashboard and metrics, events for the admin."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Min
from django.utils import timezone

from audit.models import AuditChainHead, AuditCheckpoint, AuditEvent, AuditVerification


@dataclass(frozen=True)
class ChainState:
    head_sequence: int
    unchained: int
    oldest_unchained_at: datetime | None
    last_verification: AuditVerification | None
    last_checkpoint: AuditCheckpoint | None

    @property
    def lag_seconds(self) -> float:
        if self.oldest_unchained_at is None:
            return 0.0
        return max(0.0, (timezone.now() - self.oldest_unchained_at).total_seconds())


def chain_state() -> ChainState:
    head = AuditChainHead.objects.filter(pk=1).first()
    pending = AuditEvent.objects.filter(sequence__isnull=True).aggregate(oldest=Min("occurred_at"))
    return ChainState(
        head_sequence=head.last_sequence if head else 0,
        unchained=AuditEvent.objects.filter(sequence__isnull=True).count(),
        oldest_unchained_at=pending["oldest"],
        last_verification=AuditVerification.objects.order_by("-finished_at", "-pk").first(),
        last_checkpoint=AuditCheckpoint.objects.order_by("-sequence", "-pk").first(),
    )


def events_for(*, object_type: str, object_id: str):  # noqa: ANN201
    """One object's history, newest first (for detail pages elsewhere in the admin)."""
    return AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id)).order_by("-occurred_at", "-pk")
