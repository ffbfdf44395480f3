"""The audit trail: append-only events, chained by hash in commit order, with signed checkpoints."""

from django.db import models
from django.db.models import Q

from audit.choices import ActorKind


class AuditEvent(models.Model):
    """One security- or money-relevant act. Never updated or deleted (a trigger refuses it).

    The chain columns (`sequence`, `prev_hash`, `hash`) start empty and are filled once, by the
    chainer, after the writing transaction has committed (see docs/audit.md).
    """

    sequence = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)
    occurred_at = models.DateTimeField()
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=255, blank=True)
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    tenant = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    # Canonical JSON text, stored and hashed verbatim (JSONB would re-order and re-format it).
    data = models.TextField(default="{}")
    prev_hash = models.CharField(max_length=64, null=True, blank=True, editable=False)
    hash = models.CharField(max_length=64, null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(sequence__isnull=True) & Q(prev_hash__isnull=True) & Q(hash__isnull=True))
                | (Q(sequence__isnull=False) & Q(prev_hash__isnull=False) & Q(hash__isnull=False)),
                name="audit_auditevent_chain_columns_together",
                violation_error_message="sequence, prev_hash and hash are set together.",
            ),
            models.CheckConstraint(
                condition=Q(action__regex=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$"),
                name="audit_auditevent_action_dotted",
                violation_error_message="action is a dotted lower-case verb such as ledger.entry.posted.",
            ),
        ]
        indexes = [
            models.Index(fields=["occurred_at"], name="audit_event_occurred_idx"),
            models.Index(fields=["action", "occurred_at"], name="audit_event_action_idx"),
            models.Index(fields=["object_type", "object_id"], name="audit_event_object_idx"),
            models.Index(fields=["actor_kind", "actor_id"], name="audit_event_actor_idx"),
            models.Index(fields=["tenant", "occurred_at"], name="audit_event_tenant_idx"),
            models.Index(fields=["request_id"], name="audit_event_request_idx"),
            # The chainer's work list stays tiny however long the log grows.
            models.Index(fields=["id"], condition=Q(sequence__isnull=True), name="audit_event_unchained_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence or '-'} {self.action} (pk={self.pk})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ImmutableAuditRecord("Audit events are append-only; record a new event instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # noqa: ANN201
        raise ImmutableAuditRecord("Audit events are append-only and cannot be deleted.")


class ImmutableAuditRecord(Exception):
    pass


class AuditChainHead(models.Model):
    """The end of the chain (one row): the chainer locks it, so only one chainer runs at a time."""

    last_sequence = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)
    chained_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"head #{self.last_sequence} (pk={self.pk})"


class AuditCheckpoint(models.Model):
    """A signed statement "the chain had this hash at this sequence" (Ed25519). Append-only."""

    sequence = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    signed_at = models.CharField(max_length=32)  # canonical UTC text, exactly as signed
    key_id = models.CharField(max_length=16)
    public_key = models.CharField(max_length=64)  # base64 of the raw 32-byte key
    signature = models.CharField(max_length=128)  # base64

    class Meta:
        indexes = [models.Index(fields=["sequence"], name="audit_checkpoint_seq_idx")]

    def __str__(self) -> str:
        return f"checkpoint #{self.sequence} at {self.signed_at} (pk={self.pk})"

    def as_export(self) -> dict:
        return {
            "sequence": self.sequence,
            "hash": self.hash,
            "signed_at": self.signed_at,
            "key_id": self.key_id,
            "public_key": self.public_key,
            "signature": self.signature,
        }


class AuditVerification(models.Model):
    """The outcome of one verification run (nightly task or command), for the dashboard and metrics."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    is_ok = models.BooleanField()
    events_checked = models.BigIntegerField()
    first_broken_sequence = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"verification {'ok' if self.is_ok else 'BROKEN'} at {self.finished_at:%Y-%m-%d %H:%M} (pk={self.pk})"
