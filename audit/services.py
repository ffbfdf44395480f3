"""Recording, chaining, verifying and checkpointing the audit trail.

Every app records through `audit_record`, inside its own transaction: a rolled-back change leaves
no event, a committed one always has its event. Recording is a single INSERT and takes no lock, so
it never serializes the business transactions. A single chainer (`audit_chain_pending`, run every
second by Celery beat) gives committed events their gapless sequence and hash in commit order.
On SQLite, which has one writer at a time, `audit_record` chains in the writer's own transaction.
"""

from __future__ import annotations

import base64
import contextlib
import json
import queue
import threading
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
    key_id_for,
    row_hash,
    verify_checkpoint_signature,
    verify_rows,
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

_PG_TIMESTAMP = "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"


def _select_columns(names: tuple[str, ...]) -> str:
    """Column list; PostgreSQL renders the canonical timestamp itself (no datetime objects per row)."""
    if connection.vendor == "postgresql":
        return ", ".join(_PG_TIMESTAMP if name == "occurred_at" else name for name in names)
    return ", ".join(names)


def _canonical_timestamps(rows: list[tuple], index: int) -> list[tuple]:
    """SQLite returns stored text; bring it to the canonical form PostgreSQL produces."""
    if connection.vendor == "postgresql":
        return rows
    return [(*r[:index], format_timestamp(_parse_sqlite_timestamp(r[index])), *r[index + 1 :]) for r in rows]


def _parse_sqlite_timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def _locked_head() -> AuditChainHead:
    """The head row, locked; created at the genesis state if missing (racing creators: one wins)."""
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        AuditChainHead.objects.get_or_create(pk=1, defaults={"last_sequence": 0, "last_hash": GENESIS_PREV_HASH})
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


_SEQUENCE_AT = HASHED_FIELDS.index("sequence")
_PREV_AT = HASHED_FIELDS.index("prev_hash")
_TIMESTAMP_AT = HASHED_FIELDS.index("occurred_at")
_ID_AT = HASHED_FIELDS.index("id")


def _chain_batch(limit: int) -> int:
    """Chain up to `limit` committed, unchained events in id order. Caller holds a transaction."""
    head = _locked_head()
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        # Selected in HASHED_FIELDS order; sequence and prev_hash (still NULL) are filled in below.
        cursor.execute(
            f"SELECT {_select_columns(HASHED_FIELDS)} FROM {table} "  # noqa: S608
            "WHERE sequence IS NULL ORDER BY id LIMIT %s",
            [limit],
        )
        rows = _canonical_timestamps(cursor.fetchall(), _TIMESTAMP_AT)
    if not rows:
        return 0
    sequence, previous = head.last_sequence, head.last_hash
    updates: list[tuple[int, int, str, str]] = []
    for row in rows:
        values = list(row)
        sequence += 1
        values[_SEQUENCE_AT], values[_PREV_AT] = sequence, previous
        digest = row_hash(tuple(values))
        updates.append((values[_ID_AT], sequence, previous, digest))
        previous = digest
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
            if cursor.rowcount != len(updates):
                raise RuntimeError("audit chainer lost a race the head lock should have prevented")
        else:
            cursor.executemany(
                f"UPDATE {table} SET sequence = %s, prev_hash = %s, hash = %s WHERE id = %s AND sequence IS NULL",  # noqa: S608
                [(sequence, prev, digest, pk) for pk, sequence, prev, digest in updates],
            )


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


def iter_chained_rows(*, after_sequence: int = 0, chunk_size: int = VERIFY_CHUNK_SIZE) -> Iterator[tuple]:
    """Chained events as tuples (HASHED_FIELDS values, then hash) in sequence order.

    Keyset chunks keep memory constant however long the log is. On PostgreSQL a helper thread
    fetches the next chunk while this one is hashed, so the database's work overlaps ours.
    """
    table = AuditEvent._meta.db_table
    sql = f"SELECT {_select_columns(_VERIFY_FIELDS)} FROM {table} WHERE sequence > %s ORDER BY sequence LIMIT %s"  # noqa: S608
    if connection.vendor != "postgresql":
        position = after_sequence
        with connection.cursor() as cursor:
            while True:
                cursor.execute(sql, [position, chunk_size])
                rows = _canonical_timestamps(cursor.fetchall(), _TIMESTAMP_AT)
                if not rows:
                    return
                yield from rows
                position = rows[-1][_SEQUENCE_AT]
    else:
        yield from _prefetched_chunks(sql, after_sequence, chunk_size)


def _prefetched_chunks(sql: str, after_sequence: int, chunk_size: int) -> Iterator[tuple]:
    connection.ensure_connection()
    raw = connection.connection  # the psycopg connection: no Django wrappers on the hot path
    chunks: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def fetch() -> None:
        position = after_sequence
        try:
            with raw.cursor() as cursor:
                while not stop.is_set():
                    cursor.execute(sql, [position, chunk_size])
                    rows = cursor.fetchall()
                    chunks.put(rows)
                    if not rows:
                        return
                    position = rows[-1][_SEQUENCE_AT]
        except Exception as error:  # noqa: BLE001 - handed to the consumer, which re-raises it
            chunks.put(error)

    fetcher = threading.Thread(target=fetch, name="audit-verify-fetch", daemon=True)
    fetcher.start()
    try:
        while True:
            rows = chunks.get()
            if isinstance(rows, Exception):
                raise rows
            if not rows:
                return
            yield from rows
    finally:
        stop.set()
        while fetcher.is_alive():  # unblock a fetcher waiting on a full queue, then let it finish
            with contextlib.suppress(queue.Empty):
                chunks.get(timeout=0.05)
        fetcher.join()


def iter_chained_events(*, after_sequence: int = 0) -> Iterator[dict[str, Any]]:
    """The same events as dicts (for exports and tools)."""
    for row in iter_chained_rows(after_sequence=after_sequence):
        yield dict(zip(_VERIFY_FIELDS, row, strict=True))


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

    rows: Iterator[tuple] = iter_chained_rows()
    if progress is not None:
        rows = _counting(rows, progress)
    report = verify_rows(rows, remember=wanted)

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


def _counting(rows: Iterator[tuple], progress: Callable[[int], None]) -> Iterator[tuple]:
    for count, row in enumerate(rows, 1):
        if count % 10000 == 0:
            progress(10000)
        yield row


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
