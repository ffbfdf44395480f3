"""A small PDF 1.4 writer for plain-text pages (standard library only): Helvetica, A4, word-wrapped.

Objects: 1 catalog, 2 page tree, 3 font, then per page a page object and its content stream. The
cross-reference table holds each object's exact byte offset; text is WinAnsi (Latin-1 subset), other
characters become '?'. Strings are escaped, so no input can break out of a text operator.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN = 56
FONT_SIZE = 10
LEADING = 14
WRAP_COLUMNS = 95
LINES_PER_PAGE = (PAGE_HEIGHT - 2 * MARGIN) // LEADING


def _escape(text: str) -> bytes:
    raw = text.encode("latin-1", "replace")
    raw = bytes(b if (32 <= b < 127 or b >= 160) else 63 for b in raw)  # no control characters
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def wrap(lines: Sequence[str]) -> list[str]:
    wrapped: list[str] = []
    for line in lines:
        if not line.strip():
            wrapped.append("")
            continue
        wrapped.extend(textwrap.wrap(line, WRAP_COLUMNS, break_long_words=True, replace_whitespace=True) or [""])
    return wrapped


def _content_stream(lines: Sequence[str], *, page_number: int, page_count: int) -> bytes:
    parts = [
        b"BT",
        f"/F1 {FONT_SIZE} Tf".encode(),
        f"{LEADING} TL".encode(),
        f"{MARGIN} {PAGE_HEIGHT - MARGIN} Td".encode(),
    ]
    for line in lines:
        parts.append(b"(" + _escape(line) + b") Tj T*")
    parts.append(b"ET")
    footer = _escape(f"Page {page_number} of {page_count}")
    parts += [b"BT", f"/F1 8 Tf {MARGIN} {MARGIN // 2} Td".encode(), b"(" + footer + b") Tj", b"ET"]
    return b"\n".join(parts) + b"\n"


def render_text_pdf(*, title: str, lines: Sequence[str]) -> bytes:
    """The PDF bytes of `lines` (wrapped, paginated) with `title` in the document info."""
    wrapped = wrap(lines) or [""]
    pages = [wrapped[i : i + LINES_PER_PAGE] for i in range(0, len(wrapped), LINES_PER_PAGE)]
    objects: list[bytes] = []
    page_ids = [5 + 2 * i for i in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    objects.append(b"<< /Title (" + _escape(title) + b") /Producer (Strongroom) >>")
    for number, page_lines in enumerate(pages, start=1):
        stream = _content_stream(page_lines, page_number=number, page_count=len(pages))
        content_id = page_ids[number - 1] + 1
        objects.append(
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
                f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>"
            ).encode()
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"endstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode()
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 4 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)
