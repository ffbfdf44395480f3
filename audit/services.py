"""Recording, chaining, verifying and checkpointing the audit trail.

Every app records through `audit_record`, inside its own transaction: a rolled-back change leaves
no event, a committed one always has its event. Recording is a single INSERT and takes no lock, so
it never serializes the business transactions. A single chainer (`audit_chain_pending`, run every
second by Celery beat) gives committed events their gapless sequence and hash in commit order.
On SQLite, which has one writer at a time, `audit_record` chains in the writer's own transaction.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from audit import context
from audit.context import Actor
from audit.models import AuditChainHead, AuditCheckpoint, AuditEvent, AuditVerification
from audit.offline import (
    GENESIS_PREV_HASH,
    HASHED_FIELDS,
    ChainReport,
    canonical_data,
    checkpoint_message,
    event_hash,
    key_id_for,
    verify_chain,
    verify_checkpoint_signature,
)
from common.errors import DomainError
from common.logging import mask_value
from common.request_id import get_request_id

CHAIN_BATCH_SIZE = 5000
VERIFY_CHUNK_SIZE = 20000


class UnableToCheckpoint(DomainError):
    code = "audit_checkpoint_unavailable"
    status_code = 409


def format_timestamp(moment: datetime) -> str:
    """Canonical UTC text of a timestamp: 2026-11-22T10:40:00.000123Z."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}Z"


def _target_fields(target: models.Model | None) -> tuple[str, str]:
    if target is None:
        return "", ""
    return target._meta.label_lower, str(target.pk)


def audit_record(
    *,
    action: str,
    actor: Actor | None = None,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    tenant: str | None = None,
    data: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> AuditEvent:
    """Record one event in the caller's transaction. `data` is masked (card numbers, secrets)."""
    ambient = context.current()
    actor = actor or ambient.actor or Actor.system()
    if target is not None:
        object_type, object_id = _target_fields(target)
    event = AuditEvent(
        occurred_at=occurred_at or timezone.now(),
        actor_kind=actor.kind,
        actor_id=actor.id[:64],
        actor_label=actor.label[:255],
        action=action,
        object_type=object_type[:100],
        object_id=str(object_id)[:64],
        tenant=(ambient.tenant if tenant is None else tenant)[:64],
        request_id=get_request_id()[:128],
        ip=ambient.ip[:45],
        user_agent=ambient.user_agent[:512],
        data=canonical_data(mask_value(data or {})),
    )
    with transaction.atomic(savepoint=False):
        event.save(force_insert=True)
        if connection.vendor == "sqlite":
            _chain_batch(CHAIN_BATCH_SIZE)
    return event


# --- Chaining -------------------------------------------------------------------------------------


def _hash_input(row: tuple, names: tuple[str, ...]) -> dict[str, Any]:
    event = dict(zip(names, row, strict=True))
    event["occurred_at"] = format_timestamp(event["occurred_at"])
    return event


_UNCHAINED_FIELDS = tuple(name for name in HASHED_FIELDS if name not in {"sequence", "prev_hash"})


def _locked_head() -> AuditChainHead:
    """The head row, locked; created at the genesis state if missing (racing creators: one wins)."""
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        AuditChainHead.objects.get_or_create(pk=1, defaults={"last_sequence": 0, "last_hash": GENESIS_PREV_HASH})
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


def _chain_batch(limit: int) -> int:
    """Chain up to `limit` committed, unchained events in id order. Caller holds a transaction."""
    head = _locked_head()
    rows = list(AuditEvent.objects.filter(sequence__isnull=True).order_by("pk").values_list(*_UNCHAINED_FIELDS)[:limit])
    if not rows:
        return 0
    sequence, previous = head.last_sequence, head.last_hash
    updates: list[tuple[int, int, str, str]] = []
    for row in rows:
        event = _hash_input(row, _UNCHAINED_FIELDS)
        sequence += 1
        event["sequence"], event["prev_hash"] = sequence, previous
        previous = event_hash(event)
        updates.append((event["id"], sequence, event["prev_hash"], previous))
    _write_chain_columns(updates)
    AuditChainHead.objects.filter(pk=1).update(last_sequence=sequence, last_hash=previous, chained_at=timezone.now())
    return len(updates)


def _write_chain_columns(updates: list[tuple[int, int, str, str]]) -> None:
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            ids, sequences, prevs, hashes = (list(column) for column in zip(*updates, strict=True))
            cursor.execute(
                f"UPDATE {table} AS e SET sequence = u.sequence, prev_hash = u.prev_hash, hash = u.hash "  # noqa: S608
                "FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[]) AS u(id, sequence, prev_hash, hash) "
                "WHERE e.id = u.id AND e.sequence IS NULL",
                [ids, sequences, prevs, hashes],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET sequence = %s, prev_hash = %s, hash = %s WHERE id = %s AND sequence IS NULL",  # noqa: S608
                [(sequence, prev, digest, pk) for pk, sequence, prev, digest in updates],
            )
        if cursor.rowcount is not None and 0 <= cursor.rowcount < len(updates) and connection.vendor == "postgresql":
            raise RuntimeError("audit chainer lost a race it should have been protected from by the head lock")


def audit_chain_pending(*, batch_size: int = CHAIN_BATCH_SIZE) -> int:
    """Chain every committed, unchained event; one short transaction per batch. Returns how many.

    Only committed rows are visible to the chainer's READ COMMITTED statements, and the head row
    lock admits one chainer at a time, so no event is chained twice, skipped, or chained before
    its transaction has ended; an event whose transaction commits later is chained in a later pass.
    """
    total = 0
    while True:
        with transaction.atomic():
            chained = _chain_batch(batch_size)
        total += chained
        if chained < batch_size:
            return total


# --- Verification ---------------------------------------------------------------------------------

_VERIFY_FIELDS = (*HASHED_FIELDS, "hash")


def iter_chained_events(*, after_sequence: int = 0, chunk_size: int = VERIFY_CHUNK_SIZE) -> Iterator[dict[str, Any]]:
    """Chained events in sequence order, in keyset chunks: constant memory however long the log."""
    table = AuditEvent._meta.db_table
    if connection.vendor == "postgresql":
        # PostgreSQL renders the canonical timestamp itself: no datetime objects on the hot path.
        timestamp = "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        columns = ", ".join(timestamp if name == "occurred_at" else name for name in _VERIFY_FIELDS)
    else:
        columns = ", ".join(_VERIFY_FIELDS)
    sql = f"SELECT {columns} FROM {table} WHERE sequence > %s ORDER BY sequence LIMIT %s"  # noqa: S608
    position = after_sequence
    sequence_index = _VERIFY_FIELDS.index("sequence")
    timestamp_index = _VERIFY_FIELDS.index("occurred_at")
    with connection.cursor() as cursor:
        while True:
            cursor.execute(sql, [position, chunk_size])
            rows = cursor.fetchall()
            if not rows:
                return
            for row in rows:
                event = dict(zip(_VERIFY_FIELDS, row, strict=True))
                if connection.vendor != "postgresql":
                    event["occurred_at"] = format_timestamp(_parse_sqlite_timestamp(row[timestamp_index]))
                yield event
            position = rows[-1][sequence_index]


def _parse_sqlite_timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


@dataclass
class VerificationResult:
    report: ChainReport
    checkpoint_problems: list[str]
    unchained: int

    @property
    def ok(self) -> bool:
        return self.report.ok and not self.checkpoint_problems


def audit_verify(
    *,
    external_checkpoint: dict[str, Any] | None = None,
    trusted_public_key: bytes | None = None,
    progress: Callable[[int], None] | None = None,
    record_result: bool = True,
) -> VerificationResult:
    """Recompute the whole chain; check stored checkpoints and, if given, an exported one."""
    started_at = timezone.now()
    checkpoints = [c.as_export() for c in AuditCheckpoint.objects.order_by("sequence", "pk")]
    if external_checkpoint is not None:
        checkpoints.append(external_checkpoint)
    wanted = {int(c["sequence"]) for c in checkpoints}

    events: Iterator[dict[str, Any]] = iter_chained_events()
    if progress is not None:
        events = _counting(events, progress)
    report = verify_chain(events, remember=wanted)

    problems: list[str] = []
    if report.ok:
        trusted = trusted_public_key or _configured_public_key()
        for checkpoint in checkpoints:
            problem = verify_checkpoint_signature(checkpoint, trusted)
            anchored = report.hashes_at.get(int(checkpoint["sequence"]))
            if problem is None and anchored is None:
                problem = "its sequence is not in the chain (the log was truncated)"
            elif problem is None and anchored != checkpoint["hash"]:
                problem = "the event at its sequence has a different hash (the log was rewritten)"
            if problem:
                problems.append(f"checkpoint at sequence {checkpoint['sequence']}: {problem}")
    result = VerificationResult(report, problems, AuditEvent.objects.filter(sequence__isnull=True).count())
    if record_result:
        _record_verification(result, started_at)
    return result


def _counting(events: Iterator[dict[str, Any]], progress: Callable[[int], None]) -> Iterator[dict[str, Any]]:
    for count, event in enumerate(events, 1):
        if count % 10000 == 0:
            progress(10000)
        yield event


def _record_verification(result: VerificationResult, started_at: datetime) -> None:
    broken = result.report.broken
    reason = f"{broken.reason}: {broken.detail}" if broken else "; ".join(result.checkpoint_problems)
    with transaction.atomic():
        AuditVerification.objects.create(
            started_at=started_at,
            finished_at=timezone.now(),
            is_ok=result.ok,
            events_checked=result.report.checked,
            first_broken_sequence=broken.sequence if broken else None,
            reason=reason[:255],
        )
        audit_record(
            action="audit.chain.verified" if result.ok else "audit.chain.broken",
            data={
                "events_checked": result.report.checked,
                "first_broken_sequence": broken.sequence if broken else None,
                "reason": reason[:255],
            },
        )


# --- Checkpoints ----------------------------------------------------------------------------------


def _signing_key() -> Ed25519PrivateKey | None:
    encoded = settings.AUDIT_SIGNING_KEY
    if not encoded:
        return None
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(encoded))


def _configured_public_key() -> bytes | None:
    key = _signing_key()
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw) if key else None


def public_key_base64() -> str:
    raw = _configured_public_key()
    if raw is None:
        raise UnableToCheckpoint("No audit signing key is configured (STRONGROOM_AUDIT_SIGNING_KEY).")
    return base64.b64encode(raw).decode()


def audit_checkpoint_create(*, signed_at: datetime | None = None) -> AuditCheckpoint:
    """Chain what is pending, then sign the head (sequence, hash, time) and store the checkpoint."""
    key = _signing_key()
    if key is None:
        raise UnableToCheckpoint("No audit signing key is configured (STRONGROOM_AUDIT_SIGNING_KEY).")
    audit_chain_pending()
    with transaction.atomic():
        head = _locked_head()
        if head.last_sequence == 0:
            raise UnableToCheckpoint("The chain is empty; nothing to sign yet.")
        public_raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        signed = format_timestamp(signed_at or timezone.now())
        key_id = key_id_for(public_raw)
        message = checkpoint_message(sequence=head.last_sequence, hash=head.last_hash, signed_at=signed, key_id=key_id)
        checkpoint = AuditCheckpoint.objects.create(
            sequence=head.last_sequence,
            hash=head.last_hash,
            signed_at=signed,
            key_id=key_id,
            public_key=base64.b64encode(public_raw).decode(),
            signature=base64.b64encode(key.sign(message)).decode(),
        )
        audit_record(
            action="audit.checkpoint.signed",
            target=checkpoint,
            data={"sequence": checkpoint.sequence, "hash": checkpoint.hash, "key_id": key_id},
        )
    return checkpoint


# --- Export ---------------------------------------------------------------------------------------


def audit_export_lines(*, from_sequence: int = 1) -> Iterator[str]:
    """JSON Lines for `audit/offline.py`: a header, every checkpoint, then the chained events."""
    header = {"format": "strongroom-audit-export/1", "exported_at": format_timestamp(timezone.now())}
    yield json.dumps({"type": "header", **header, "from_sequence": from_sequence})
    for checkpoint in AuditCheckpoint.objects.filter(sequence__gte=from_sequence).order_by("sequence", "pk"):
        yield json.dumps({"type": "checkpoint", **checkpoint.as_export()})
    for event in iter_chained_events(after_sequence=from_sequence - 1):
        yield json.dumps({"type": "event", **event, "data": json.loads(event["data"])}, sort_keys=True)
