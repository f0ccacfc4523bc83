"""Print quality: the checks of ``cxtradeoff.printcheck`` on PDFs made here, good and bad,
so that each check is seen to fail on what it is meant to catch."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxtradeoff import printcheck

A4 = (595.28, 841.89)


def write_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A minimal PDF, one page per list of content-stream operators (Helvetica as /F1).

    Coordinates are PDF points from the bottom left corner, as in ``BT /F1 12 Tf 72 700 Td
    (text) Tj ET`` or ``72 100 200 150 re f``.
    """
    objects: list[bytes] = []
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, ops in enumerate(pages):
        stream = "\n".join(ops).encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {A4[0]} {A4[1]}] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))
    return path


def text(x: float, y_from_top: float, words: str, *, size: float = 11) -> str:
    """A line of Helvetica text whose baseline is ``y_from_top`` points below the page top."""
    return f"BT /F1 {size} Tf {x} {A4[1] - y_from_top} Td ({words}) Tj ET"


def body_lines(first: float, last: float, *, step: float = 16) -> list[str]:
    lines, y = [], first
    while y <= last:
        lines.append(text(60, y, "Automation pays while fewer than 6% of customers leave."))
        y += step
    return lines


HEADER_FOOTER = [text(40, 30, "Telecom report", size=8), text(480, 820, "Page 1 of 2", size=8)]


@pytest.fixture
def good_pdf(tmp_path: Path) -> Path:
    """Two pages: the first full down to the footer, the last half full; 9 pt and up."""
    full = [*HEADER_FOOTER, *body_lines(80, 780)]
    last = [*HEADER_FOOTER, *body_lines(80, 300), text(60, 320, "Bold", size=9)]
    last.append(text(60.2, 320, "Bold", size=9))  # faux bold: the same glyphs drawn twice
    return write_pdf(tmp_path / "good.pdf", [full, last])


@pytest.fixture
def bad_pdf(tmp_path: Path) -> Path:
    """What was found in the telecom report: a table whose columns run into each other, a
    page half blank before the last, code names in the text and 6 pt type."""
    overlapping = [
        *HEADER_FOOTER,
        *body_lines(80, 760),
        text(60, 776, "contacts_per_customer"),
        text(120, 776, "Contacts per customer a year"),  # printed over the code name
    ]
    half_empty = [*HEADER_FOOTER, *body_lines(80, 380), f"60 {A4[1] - 420} 300 20 re f"]
    last = [*HEADER_FOOTER, text(60, 80, "Annual loyalty cost: 2e+06 (annual_loyalty_cost)")]
    last.append(text(60, 100, "Footnote in tiny type", size=6))
    return write_pdf(tmp_path / "bad.pdf", [overlapping, half_empty, last])


def test_a_good_pdf_passes_every_check(good_pdf: Path) -> None:
    assert printcheck.overlapping_characters(good_pdf) == []
    fill = printcheck.page_fill(good_pdf)
    assert len(fill) == 2
    assert fill[0] > 0.9  # down to the footer band
    assert 0.3 < fill[1] < 0.45  # the last page may be short
    assert printcheck.smallest_font_pt(good_pdf) == pytest.approx(8)
    assert printcheck.code_identifiers(" ".join(printcheck.pdf_text(good_pdf))) == []


def test_text_drawn_over_text_is_caught(bad_pdf: Path) -> None:
    overlaps = printcheck.overlapping_characters(bad_pdf)
    assert overlaps, "a label printed over a code name must be found"
    assert {o.page for o in overlaps} == {1}
    assert "contacts" in overlaps[0].context
    assert "page 1:" in str(overlaps[0])


def test_a_half_empty_page_is_caught(bad_pdf: Path) -> None:
    fill = printcheck.page_fill(bad_pdf)
    assert fill[0] > 0.9
    # the rectangle under the text is content too: it ends 420 pt from the top
    assert fill[1] == pytest.approx(420 / A4[1], abs=0.005)
    assert fill[1] < 2 / 3


def test_code_identifiers_and_small_type_are_caught(bad_pdf: Path) -> None:
    found = printcheck.code_identifiers("\n".join(printcheck.pdf_text(bad_pdf)))
    assert "annual_loyalty_cost" in found  # (the overlapped code name reads garbled)
    assert printcheck.smallest_font_pt(bad_pdf) == pytest.approx(6)


def test_the_header_and_footer_bands_are_not_content(tmp_path: Path) -> None:
    only_bands = write_pdf(tmp_path / "bands.pdf", [HEADER_FOOTER])
    assert printcheck.page_fill(only_bands) == [0.0]
    # a white rectangle over the whole content area (Chromium's page background) neither
    white = write_pdf(
        tmp_path / "white.pdf", [[*HEADER_FOOTER, "1 1 1 rg 34 45 527 746 re f", "0 0 0 rg"]]
    )
    assert printcheck.page_fill(white) == [0.0]


def test_a_table_column_run_into_the_next_is_an_overlap() -> None:
    """Digits of one cell drawn over the next cell's, as in the old scenario table."""
    row = [
        dict(text=d, x0=100 + 6 * i, x1=106 + 6 * i, top=600, bottom=611)
        for i, d in enumerate("33,856,001")
    ]
    row += [
        dict(text=d, x0=129 + 6 * i, x1=135 + 6 * i, top=600, bottom=611)
        for i, d in enumerate("0,272")
    ]
    overlaps = printcheck.page_overlaps(row, page=2)
    assert overlaps and overlaps[0].page == 2


def test_every_model_input_has_a_label_and_a_unit() -> None:
    """A director's table never falls back on a code name or a bare number."""
    from cxtradeoff.formatting import PARAMETER_LABELS, PARAMETER_UNITS
    from cxtradeoff.model import Parameters

    assert set(Parameters.model_fields) == set(PARAMETER_LABELS) == set(PARAMETER_UNITS)
