import re

from disputes.pdf import LINES_PER_PAGE, render_text_pdf


def parse(pdf: bytes) -> dict:
    """Check the structure a reader relies on: header, xref offsets, stream lengths, trailer, page count."""
    assert pdf.startswith(b"%PDF-1.4\n")
    assert pdf.endswith(b"%%EOF\n")
    startxref = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", pdf).group(1))
    assert pdf[startxref : startxref + 4] == b"xref"
    header = re.match(rb"xref\n0 (\d+)\n", pdf[startxref:])
    size = int(header.group(1))
    rows = pdf[startxref + header.end() :].split(b"\n")[:size]
    assert rows[0] == b"0000000000 65535 f "
    objects = {}
    for number, row in enumerate(rows[1:], start=1):
        offset = int(row[:10])
        assert row.endswith(b" 00000 n ")
        assert pdf[offset:].startswith(f"{number} 0 obj\n".encode())
        end = pdf.index(b"\nendobj\n", offset)
        objects[number] = pdf[offset + len(f"{number} 0 obj\n") : end]
    for body in objects.values():
        if b"stream\n" in body:
            length = int(re.search(rb"/Length (\d+)", body).group(1))
            start = body.index(b"stream\n") + len(b"stream\n")
            assert body[start + length :] == b"endstream"
    trailer = pdf[pdf.index(b"trailer", startxref) :]
    assert f"/Size {size}".encode() in trailer and b"/Root 1 0 R" in trailer
    count = int(re.search(rb"/Count (\d+)", objects[2]).group(1))
    kids = re.findall(rb"(\d+) 0 R", re.search(rb"/Kids \[([^\]]*)\]", objects[2]).group(1))
    assert len(kids) == count
    for kid in kids:
        assert b"/Type /Page " in objects[int(kid)]
    return {"pages": count, "objects": objects}


class TestPdfWriter:
    def test_one_page_parses(self) -> None:
        parsed = parse(render_text_pdf(title="Letter", lines=["Hello", "", "World"]))

        assert parsed["pages"] == 1
        assert b"(Hello) Tj" in parsed["objects"][6]

    def test_long_text_is_wrapped_and_paginated(self) -> None:
        parsed = parse(render_text_pdf(title="Long", lines=[f"line {i}" for i in range(LINES_PER_PAGE * 2 + 1)]))

        assert parsed["pages"] == 3

    def test_parentheses_backslashes_and_non_latin_text_cannot_break_the_syntax(self) -> None:
        pdf = render_text_pdf(title="a) Tj (b", lines=["x) Tj ET (y \\ z", "Ω snowman ☃", "\x00\x1b"])

        parsed = parse(pdf)
        assert rb"(x\) Tj ET \(y \\ z) Tj" in parsed["objects"][6]
        assert b"(? snowman ?) Tj" in parsed["objects"][6]
        assert b"/Title (a\\) Tj \\(b)" in parsed["objects"][4]
