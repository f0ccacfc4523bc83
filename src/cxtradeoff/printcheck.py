"""Checks on a printed PDF, read back with pdfplumber: what a director would trip over.

Pure functions over a PDF file (they only read it):

- :func:`overlapping_characters`: characters drawn over other characters (columns of a
  table running into each other, a label printed over its neighbour);
- :func:`page_fill`: how far down each page its content goes, as a share of the page height
  (a page half blank because a chart did not fit under its heading);
- :func:`smallest_font_pt`: the smallest font size of any printed character;
- :func:`code_identifiers`: snake_case names (``annual_loyalty_cost``) in a text, code that
  leaked into what a director reads;
- :func:`pdf_text`: the text of every page, in reading order, for :func:`code_identifiers`.

The running header and footer that Chromium prints in the page margins (title, page
numbers) are left out of :func:`page_fill`: they are on every page whatever its content.
Their default heights are the margins :mod:`cxtradeoff.pipeline.export` prints with.

A PDF is parsed once (pdfplumber is slow) and kept while the file is unchanged, so that
running every check on it costs one reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

#: millimetres to PDF points
MM = 72 / 25.4

#: the top and bottom page margins the reports are printed with (``pipeline/export.py``),
#: where Chromium draws the running header and footer
HEADER_MM = 18.0
FOOTER_MM = 16.0

#: two characters overlap when their boxes intersect over more than this share of the
#: smaller box in each direction
OVERLAP_TOLERANCE = 0.25

#: neighbours in one run of text (drawn one after the other, same font, size and baseline)
#: may be kerned together by up to this share of the font size ("y." in DejaVu Sans: 0.14)
KERNING_EM = 0.2

#: the same glyph drawn twice within this many points is faux bold, not an overlap
SAME_GLYPH_PT = 1.0

_IDENTIFIER = re.compile(r"(?<![\w.@/-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@/])")
# addresses are not code: a link or an e-mail address may well hold an underscore
_ADDRESS = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+")


@dataclass(frozen=True)
class Overlap:
    """Two characters drawn over each other.

    ``page`` counts from 1; ``x`` and ``top`` (points from the page's top left corner)
    place the first of the two; ``context`` is the line of text around it.
    """

    page: int
    first: str
    second: str
    x: float
    top: float
    context: str

    def __str__(self) -> str:
        return (
            f"page {self.page}: {self.first!r} over {self.second!r} at "
            f"({self.x:.0f}, {self.top:.0f}) pt in {self.context!r}"
        )


@dataclass(frozen=True)
class _Page:
    """What the checks read of a page: its height, its objects and its text."""

    height: float
    chars: list[dict[str, Any]]
    images: list[dict[str, Any]]
    rects: list[dict[str, Any]]
    lines: list[dict[str, Any]]
    curves: list[dict[str, Any]]
    text: str


@lru_cache(maxsize=16)
def _read(path: str, mtime_ns: int, size: int) -> tuple[_Page, ...]:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return tuple(
            _Page(
                height=float(page.height),
                chars=list(page.chars),
                images=list(page.images),
                rects=list(page.rects),
                lines=list(page.lines),
                curves=list(page.curves),
                text=page.extract_text() or "",
            )
            for page in pdf.pages
        )


def _pages(pdf_path: Path | str) -> tuple[_Page, ...]:
    """The pages of a PDF, read once for every check (again when the file changes)."""
    stat = Path(pdf_path).stat()
    return _read(str(Path(pdf_path).resolve()), stat.st_mtime_ns, stat.st_size)


def _printed(chars: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The characters that leave ink: no spaces, no zero-size boxes."""
    return [
        c
        for c in chars
        if c["text"].strip() and c["x1"] - c["x0"] > 0.01 and c["bottom"] - c["top"] > 0.01
    ]


def font_size(char: dict[str, Any]) -> float:
    """The printed size of a character, in points: the height of its box across the baseline.

    pdfplumber's ``size`` is that height for upright text, but for text turned a quarter
    turn (a chart's vertical axis label) it is the glyph's advance instead ("l" reads 2.5
    pt in a 9 pt label); there the height across the baseline is the box's width.

    >>> font_size(dict(upright=True, size=9.0, x0=0, x1=2.5, top=0, bottom=9.0))
    9.0
    >>> font_size(dict(upright=False, size=2.5, x0=0, x1=8.9, top=0, bottom=2.5))
    8.9
    """
    if char.get("upright", True):
        return float(char["size"])
    return float(char["x1"] - char["x0"])


def _line_around(chars: list[dict[str, Any]], char: dict[str, Any]) -> str:
    """The characters on the same line as ``char``, left to right, as a string."""
    mid = (char["top"] + char["bottom"]) / 2
    line = [c for c in chars if c["top"] <= mid <= c["bottom"]]
    line.sort(key=lambda c: c["x0"])
    text = "".join(c["text"] for c in line)
    return text if len(text) <= 80 else text[:77] + "..."


def _kerned(one: dict[str, Any], other: dict[str, Any], dx: float) -> bool:
    """Whether ``one`` and ``other`` are neighbours in a run of text, kerned by ``dx`` points."""
    return (
        abs(one["_order"] - other["_order"]) == 1
        and one.get("fontname") == other.get("fontname")
        and one.get("size") == other.get("size")
        and abs(one["top"] - other["top"]) < 0.5
        and dx <= KERNING_EM * (font_size(one) if "size" in one else one["bottom"] - one["top"])
    )


def page_overlaps(
    chars: list[dict[str, Any]], *, page: int = 1, tolerance: float = OVERLAP_TOLERANCE
) -> list[Overlap]:
    """Pairs of characters (pdfplumber's ``page.chars``, in drawing order) drawn over
    each other.

    A pair counts when the boxes intersect over more than ``tolerance`` of the smaller
    box's width *and* of its height. Two exceptions: neighbours in one run of text
    kerned together (by up to :data:`KERNING_EM` of the font size), and the same glyph
    drawn twice at (almost) the same place (faux bold).

    Examples
    --------
    >>> a = dict(text="a", x0=0, x1=5, top=0, bottom=10)
    >>> b = dict(text="b", x0=2, x1=7, top=1, bottom=11)
    >>> c = dict(text="c", x0=5, x1=10, top=0, bottom=10)
    >>> [(o.first, o.second) for o in page_overlaps([a, b, c])]
    [('a', 'b'), ('b', 'c')]
    >>> page_overlaps([a, dict(a, x0=0.3, x1=5.3)])  # bold drawn twice
    []
    >>> y = dict(text="y", x0=0, x1=6.2, top=0, bottom=10.5, fontname="DejaVuSans", size=10.5)
    >>> page_overlaps([y, dict(y, text=".", x0=4.7, x1=8)])  # "y." kerned in one run
    []
    """
    ordered = [dict(c, _order=i) for i, c in enumerate(chars)]
    ink = sorted(_printed(ordered), key=lambda c: c["x0"])
    found: list[Overlap] = []
    for i, one in enumerate(ink):
        w1, h1 = one["x1"] - one["x0"], one["bottom"] - one["top"]
        for other in ink[i + 1 :]:
            if other["x0"] >= one["x1"]:
                break  # sorted by x0: nothing further right can meet ``one``
            dx = min(one["x1"], other["x1"]) - max(one["x0"], other["x0"])
            dy = min(one["bottom"], other["bottom"]) - max(one["top"], other["top"])
            if dx <= 0 or dy <= 0:
                continue
            w2, h2 = other["x1"] - other["x0"], other["bottom"] - other["top"]
            if dx <= tolerance * min(w1, w2) or dy <= tolerance * min(h1, h2):
                continue
            if _kerned(one, other, dx):
                continue
            if (
                one["text"] == other["text"]
                and abs(one["x0"] - other["x0"]) <= SAME_GLYPH_PT
                and abs(one["top"] - other["top"]) <= SAME_GLYPH_PT
            ):
                continue
            first, second = sorted((one, other), key=lambda c: c["_order"])
            found.append(
                Overlap(
                    page=page,
                    first=first["text"],
                    second=second["text"],
                    x=float(first["x0"]),
                    top=float(first["top"]),
                    context=_line_around(ordered, first),
                )
            )
    return found


def overlapping_characters(
    pdf_path: Path | str, *, tolerance: float = OVERLAP_TOLERANCE
) -> list[Overlap]:
    """Every pair of characters drawn over each other, on every page of ``pdf_path``.

    Parameters
    ----------
    pdf_path
        The PDF to read.
    tolerance
        Share of the smaller character's box, across and down, that two boxes may share
        before they count as overlapping (see :func:`page_overlaps`, which also allows
        for kerning and faux bold).

    Returns
    -------
    list of Overlap
        Empty when no text runs into other text.
    """
    return [
        overlap
        for number, page in enumerate(_pages(pdf_path), start=1)
        for overlap in page_overlaps(page.chars, page=number, tolerance=tolerance)
    ]


def _is_white(colour: Any) -> bool:
    if colour is None:
        return False
    values = colour if isinstance(colour, list | tuple) else [colour]
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        return False
    if len(numbers) == 4:  # CMYK: white is no ink
        return all(v <= 0.02 for v in numbers)
    return bool(numbers) and all(v >= 0.98 for v in numbers)


def _visible_rect(rect: dict[str, Any]) -> bool:
    """A rectangle that shows on paper: stroked, or filled with something other than white."""
    if (
        rect.get("stroke")
        and rect.get("linewidth", 1) > 0
        and not _is_white(rect.get("stroking_color"))
    ):
        return True
    return bool(rect.get("fill")) and not _is_white(rect.get("non_stroking_color"))


def content_bottom(
    page: Any, *, header_mm: float = HEADER_MM, footer_mm: float = FOOTER_MM
) -> float:
    """The bottom, in points from the top, of the lowest content of a page (pdfplumber's,
    or one as this module keeps it: ``height``, ``chars``, ``images``, ``rects``,
    ``lines``, ``curves``).

    Content is printed characters, images, visible rectangles, lines and curves, outside
    the header band (the top ``header_mm``) and the footer band (the bottom
    ``footer_mm``); 0 when the page holds none.
    """
    top_band = header_mm * MM
    bottom_band = float(page.height) - footer_mm * MM
    boxes: list[dict[str, Any]] = [
        *_printed(page.chars),
        *page.images,
        *(r for r in page.rects if _visible_rect(r)),
        *page.lines,
        *page.curves,
    ]
    bottoms = [
        float(box["bottom"])
        for box in boxes
        if float(box["bottom"]) > top_band and float(box["top"]) < bottom_band
    ]
    return min(max(bottoms), bottom_band) if bottoms else 0.0


def page_fill(
    pdf_path: Path | str, *, header_mm: float = HEADER_MM, footer_mm: float = FOOTER_MM
) -> list[float]:
    """How far down each page its content goes, as a share of the page height.

    Parameters
    ----------
    pdf_path
        The PDF to read.
    header_mm, footer_mm
        Heights of the running header and footer bands, left out (the page margins the
        reports are printed with).

    Returns
    -------
    list of float
        One number per page, from 0 (nothing but the header and footer) to about
        ``1 - footer_mm / page height`` (content down to the footer). A page filled to
        less than 2/3 is more than a third empty.
    """
    return [
        content_bottom(page, header_mm=header_mm, footer_mm=footer_mm) / page.height
        for page in _pages(pdf_path)
    ]


def smallest_font_pt(pdf_path: Path | str) -> float:
    """The smallest font size, in points, of any printed character of ``pdf_path``.

    Spaces are left out; the running header and footer are not (they are read too); text
    turned a quarter turn is measured across its baseline (:func:`font_size`). ``inf``
    when the PDF holds no text.
    """
    sizes = [font_size(c) for page in _pages(pdf_path) for c in _printed(page.chars)]
    return min(sizes, default=float("inf"))


def pdf_text(pdf_path: Path | str) -> list[str]:
    """The text of each page of ``pdf_path``, in reading order (pdfplumber's layout)."""
    return [page.text for page in _pages(pdf_path)]


def code_identifiers(text: str) -> list[str]:
    """The snake_case identifiers in ``text``, in order of first appearance.

    An identifier is lower-case words joined by underscores (``annual_loyalty_cost``,
    ``break_even_conversion_npv``). Web and e-mail addresses are skipped: an underscore
    in a link is part of the address, not code.

    Examples
    --------
    >>> code_identifiers("Loyalty cost (annual_loyalty_cost) and contacts_per_customer.")
    ['annual_loyalty_cost', 'contacts_per_customer']
    >>> code_identifiers("Break-even: 5.9% (break_even_conversion_npv), again break_even_conversion_npv")
    ['break_even_conversion_npv']
    >>> code_identifiers("See https://example.org/a_b and write to first_last@example.org")
    []
    >>> code_identifiers("Cost per human contact, 12% of customers, P10 to P90")
    []
    """
    found: list[str] = []
    for match in _IDENTIFIER.finditer(_ADDRESS.sub(" ", text)):
        name = match.group(0)
        if name not in found:
            found.append(name)
    return found
