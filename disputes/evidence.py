"""Evidence validation: content sniffing (magic bytes, never the extension), size limit, SHA-256,
filename sanitising, card-number screening of text, and the completeness checklist."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from common.errors import DomainError
from disputes import conf
from disputes.choices import EvidenceKind

# content type → (magic prefix, extension)
ALLOWED_TYPES: dict[str, tuple[bytes, str]] = {
    "application/pdf": (b"%PDF-", "pdf"),
    "image/png": (b"\x89PNG\r\n\x1a\n", "png"),
    "image/jpeg": (b"\xff\xd8\xff", "jpg"),
}
# Active content a PDF viewer might run; evidence PDFs have no business carrying it.
PDF_ACTIVE_MARKERS = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/OpenAction", b"/AA")
CHUNK = 64 * 1024


class EvidenceTooLarge(DomainError):
    code = "evidence_too_large"
    status_code = 413
    default_message = "The file is larger than the evidence size limit."


class EvidenceTypeNotAllowed(DomainError):
    code = "evidence_type_not_allowed"
    status_code = 415
    default_message = "Evidence files must be PDF, PNG or JPEG (judged by content, not name)."


class EvidenceRejected(DomainError):
    code = "evidence_rejected"
    default_message = "The evidence was refused."


@dataclass(frozen=True)
class SniffedFile:
    content: bytes
    content_type: str
    extension: str
    sha256: str
    size: int


def sniff_type(head: bytes) -> str | None:
    for content_type, (magic, _) in ALLOWED_TYPES.items():
        if head.startswith(magic):
            return content_type
    return None


def read_upload(stream: IO[bytes], *, declared_size: int | None = None) -> SniffedFile:
    """Read at most the size limit (+1 byte to notice more), sniff the type, hash it."""
    limit = int(conf.get("DISPUTES_EVIDENCE_MAX_BYTES"))
    if declared_size is not None and declared_size > limit:
        raise EvidenceTooLarge(fields={"size": declared_size, "limit": limit})
    chunks, total = [], 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise EvidenceTooLarge(fields={"limit": limit})
        chunks.append(chunk)
    content = b"".join(chunks)
    if not content:
        raise EvidenceRejected("The file is empty.")
    content_type = sniff_type(content[:16])
    if content_type is None:
        raise EvidenceTypeNotAllowed(fields={"detected": "unknown"})
    if content_type == "application/pdf" and any(marker in content for marker in PDF_ACTIVE_MARKERS):
        raise EvidenceRejected("PDF evidence must not carry scripts, launch actions or embedded files.")
    return SniffedFile(
        content=content,
        content_type=content_type,
        extension=ALLOWED_TYPES[content_type][1],
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
    )


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def sanitise_filename(name: str, *, extension: str) -> str:
    """A safe base name (ASCII letters, digits, . _ -; no path, no leading dot) ending in the sniffed extension."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode().lstrip(". ")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = _UNSAFE.sub("_", stem).strip("._-")[:80] or "evidence"
    return f"{stem}.{extension}"


_DIGIT_RUN = re.compile(r"(?:\d[ -]?){13,19}")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def contains_card_number(text: str) -> bool:
    """True if the text holds a 13–19 digit run (spaces/dashes allowed) that passes the Luhn check."""
    for match in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        for length in range(19, 12, -1):
            for start in range(0, len(digits) - length + 1):
                if _luhn_ok(digits[start : start + length]):
                    return True
    return False


def checklist(*, required: Iterable[str], provided: Iterable[str]) -> list[tuple[str, str, bool]]:
    """[(kind, label, present)] for each kind the reason code requires, in the catalog's order."""
    present = set(provided)
    labels = dict(EvidenceKind.choices)
    return [(kind, str(labels.get(kind, kind)), kind in present) for kind in required]


def missing(*, required: Iterable[str], provided: Iterable[str]) -> list[str]:
    present = set(provided)
    return [kind for kind in required if kind not in present]
