#!/usr/bin/env python3
"""Audit chain primitives, and the offline verifier of an `audit_export` file.

Standard library + `cryptography` only (no Django), so an auditor can copy this one file and run

    python offline.py EXPORT.jsonl [--public-key KEY.pub]

The Django app imports the same functions, so the product and the offline check cannot disagree
on what a hash is.

Canonical form of an event: a JSON object of every field except `hash` (including `prev_hash`),
sorted keys, separators "," and ":", ASCII escapes, timestamps as UTC ISO-8601 with microseconds
and "Z", decimals as strings. `hash` = SHA-256 of that text, hex.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii as _quote  # C-accelerated
from typing import Any

GENESIS_PREV_HASH = "0" * 64

# Every hashed field, in canonical (sorted) order. `data` is embedded as canonical JSON text.
HASHED_FIELDS = tuple(
    sorted(
        [
            "id", "sequence", "occurred_at", "actor_kind", "actor_id", "actor_label", "action",
            "object_type", "object_id", "tenant", "request_id", "ip", "user_agent", "data", "prev_hash",
        ]
    )
)  # fmt: skip
_INTEGER_FIELDS = {"id", "sequence"}
# '{"action":%s,"actor_id":%s,...}' — one format per event instead of a generic JSON encoder.
_TEMPLATE = "{" + ",".join(f'"{name}":%s' for name in HASHED_FIELDS) + "}"
# canonical_row() below spells out the quoting per position; it depends on this exact order.
assert HASHED_FIELDS == (  # noqa: S101
    "action", "actor_id", "actor_kind", "actor_label", "data", "id", "ip", "object_id", "object_type",
    "occurred_at", "prev_hash", "request_id", "sequence", "tenant", "user_agent",
)  # fmt: skip


def canonical_row(v: tuple) -> str:
    """Canonical text of an event given as values in HASHED_FIELDS order (data already canonical JSON).

    Straight-line code: verification hashes millions of events, and a generic loop with a branch
    per field costs several times more. A property test checks it equals plain `json.dumps`.
    """
    q = _quote
    return _TEMPLATE % (
        q(v[0]), q(v[1]), q(v[2]), q(v[3]), v[4], int(v[5]), q(v[6]), q(v[7]),
        q(v[8]), q(v[9]), q(v[10]), q(v[11]), int(v[12]), q(v[13]), q(v[14]),
    )  # fmt: skip


def canonical_data(data: Any) -> str:
    """Canonical JSON text of an event's `data` (what is stored, and hashed, verbatim)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False, default=str)


def canonical_event(event: dict[str, Any]) -> str:
    """The canonical text of an event; `event["data"]` is its canonical JSON text."""
    return canonical_row(tuple(event[name] for name in HASHED_FIELDS))


def event_hash(event: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_event(event).encode("ascii")).hexdigest()


@dataclass
class ChainBreak:
    sequence: int
    reason: str  # "gap" | "prev_hash mismatch" | "hash mismatch"
    detail: str


@dataclass
class ChainReport:
    checked: int = 0
    first_sequence: int | None = None
    last_sequence: int | None = None
    last_hash: str | None = None
    broken: ChainBreak | None = None
    hashes_at: dict[int, str] = field(default_factory=dict)  # sequence → hash, for the sequences asked about

    @property
    def ok(self) -> bool:
        return self.broken is None


def row_hash(values: tuple) -> str:
    """Hash of an event given as a tuple in HASHED_FIELDS order."""
    return hashlib.sha256(canonical_row(values).encode("ascii")).hexdigest()


_SEQUENCE_AT = HASHED_FIELDS.index("sequence")
_PREV_AT = HASHED_FIELDS.index("prev_hash")


def verify_rows(
    rows: Iterable[tuple],
    *,
    start_sequence: int = 1,
    start_prev_hash: str | None = GENESIS_PREV_HASH,
    remember: set[int] | None = None,
) -> ChainReport:
    """`verify_chain` for rows as tuples: HASHED_FIELDS values in order, then the stored hash."""
    report = ChainReport()
    expected_sequence, expected_prev = start_sequence, start_prev_hash
    sha256 = hashlib.sha256
    for row in rows:
        sequence = row[_SEQUENCE_AT]
        if sequence != expected_sequence:
            detail = f"expected sequence {expected_sequence}, found {sequence}"
            report.broken = ChainBreak(expected_sequence, "gap", detail)
            return report
        if expected_prev is not None and row[_PREV_AT] != expected_prev:
            report.broken = ChainBreak(sequence, "prev_hash mismatch", "prev_hash does not match the previous hash")
            return report
        recomputed = sha256(canonical_row(row).encode("ascii")).hexdigest()
        if recomputed != row[-1]:
            report.broken = ChainBreak(sequence, "hash mismatch", "stored hash differs from the recomputed one")
            return report
        if remember and sequence in remember:
            report.hashes_at[sequence] = recomputed
        if report.first_sequence is None:
            report.first_sequence = sequence
        report.checked += 1
        expected_sequence, expected_prev = sequence + 1, recomputed
    report.last_sequence = expected_sequence - 1 if report.checked else None
    report.last_hash = expected_prev if report.checked else None
    return report


def verify_chain(
    events: Iterable[dict[str, Any]],
    *,
    start_sequence: int = 1,
    start_prev_hash: str | None = GENESIS_PREV_HASH,
    remember: set[int] | None = None,
) -> ChainReport:
    """Walk events in sequence order; stop at the first break and say where and why.

    `start_prev_hash=None` accepts whatever the first event links to (an export that starts
    mid-chain); its hash is still checked.
    """
    rows = ((*(event[name] for name in HASHED_FIELDS), event["hash"]) for event in events)
    return verify_rows(rows, start_sequence=start_sequence, start_prev_hash=start_prev_hash, remember=remember)


# --- Signed checkpoints ---------------------------------------------------------------------------


def checkpoint_message(*, sequence: int, hash: str, signed_at: str, key_id: str) -> bytes:  # noqa: A002
    """What a checkpoint's Ed25519 signature covers."""
    body = {"hash": hash, "key_id": key_id, "sequence": int(sequence), "signed_at": signed_at}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("ascii")


def key_id_for(public_key_raw: bytes) -> str:
    return hashlib.sha256(public_key_raw).hexdigest()[:16]


def verify_checkpoint_signature(checkpoint: dict[str, Any], public_key_raw: bytes | None = None) -> str | None:
    """None when the signature is valid (under `public_key_raw` if given); else why not."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    embedded = base64.b64decode(checkpoint["public_key"])
    if public_key_raw is not None and embedded != public_key_raw:
        return "signed by a different key than the trusted one"
    if key_id_for(embedded) != checkpoint["key_id"]:
        return "key_id does not match the public key"
    fields = {name: checkpoint[name] for name in ("sequence", "hash", "signed_at", "key_id")}
    message = checkpoint_message(**fields)
    try:
        Ed25519PublicKey.from_public_bytes(embedded).verify(base64.b64decode(checkpoint["signature"]), message)
    except InvalidSignature:
        return "signature does not verify"
    return None


# --- Offline verification of an export -----------------------------------------------------------
# An export is JSON Lines: one "header", then every "checkpoint", then the "event"s in sequence order.


def verify_export(path: str, public_key_raw: bytes | None = None) -> tuple[bool, list[str]]:
    """Verify an export in one streaming pass: the chain, every checkpoint's signature and anchor."""
    checkpoints: list[dict[str, Any]] = []

    def events() -> Iterator[dict[str, Any]]:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                record = json.loads(line)
                kind = record.pop("type", None)
                if kind == "event":
                    record["data"] = canonical_data(record["data"])
                    yield record
                elif kind == "checkpoint":
                    checkpoints.append(record)
                elif kind != "header":
                    raise ValueError(f"line {number}: unknown record type {kind!r}")

    stream = events()
    first = next(stream, None)
    if first is None:
        return False, ["the export holds no events"]
    wanted = {int(c["sequence"]) for c in checkpoints}
    report = verify_chain(
        _prepend(first, stream), start_sequence=int(first["sequence"]), start_prev_hash=None, remember=wanted
    )
    if report.broken is not None:
        broken = report.broken
        return False, [f"BROKEN at sequence {broken.sequence}: {broken.reason} ({broken.detail})"]
    lines = [f"chain ok: {report.checked} events, sequences {report.first_sequence}..{report.last_sequence}"]
    ok = True
    for checkpoint in checkpoints:
        problem = verify_checkpoint_signature(checkpoint, public_key_raw)
        anchored = report.hashes_at.get(int(checkpoint["sequence"]))
        if problem is None and anchored is None:
            problem = "its sequence is not in this export"
        elif problem is None and anchored != checkpoint["hash"]:
            problem = "the event at its sequence has a different hash (the log was rewritten)"
        status = "ok" if problem is None else f"FAILED: {problem}"
        lines.append(f"checkpoint at sequence {checkpoint['sequence']} ({checkpoint['signed_at']}): {status}")
        ok = ok and problem is None
    return ok, lines


def _prepend(first: dict[str, Any], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield first
    yield from rest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a Strongroom audit export offline.")
    parser.add_argument("export", help="the JSON Lines file written by `manage.py audit_export`")
    parser.add_argument("--public-key", help="file with the trusted Ed25519 public key (base64 of the raw 32 bytes)")
    args = parser.parse_args(argv)
    trusted = None
    if args.public_key:
        with open(args.public_key, encoding="ascii") as handle:
            trusted = base64.b64decode(handle.read().strip())
    ok, lines = verify_export(args.export, trusted)
    for line in lines:
        print(line)  # noqa: T201
    print("VERIFIED" if ok else "NOT VERIFIED")  # noqa: T201
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
