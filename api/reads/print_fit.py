"""How large a page's type may be for the page to print on one A4 sheet.

Chromium has no "shrink to fit" for print, so the size is chosen before the page is sent: its
height is estimated from its HTML, in lines of body text, element by element, with the heights
Chromium gives each kind of element in the print style (measured at 10 pt: a heading, a grid's
row, a wrapped paragraph's line...). Grid cells do not wrap in print (``white-space: nowrap``)
except where the renderer says so, so a row is one line however small the type. The size is
then the one at which that many lines fill the sheet, from 10.5 pt for a short page down to
6 pt; everything in the style is in em, so it all scales with it. Past about 100 lines at 6 pt
a page would take a second sheet (a household with some 90 parcels).
"""

from __future__ import annotations

import math
import unicodedata
from html.parser import HTMLParser

# A4 is 297 mm high; less the @page margins (2 x 10 mm), 785 pt: 60 lines of 13 pt (10 pt type,
# line height 1.3), and a few lines kept in hand for fonts whose lines run taller.
LINES_PER_SHEET_AT_10PT = 62.0
LARGEST_PT, SMALLEST_PT = 10.5, 6.0

# Heights in lines of body text, as measured in Chromium's print layout.
HEADINGS = {"h1": 2.6, "h2": 2.0, "h3": 1.6}
SHEET = 1.5  # the sheet's border and padding
FACT_ROW = 1.0
GRID_ROW, GRID_HEADER = 1.12, 2.2  # a header's labels wrap over two lines in narrow columns
PARAGRAPH_GAP = 0.46  # a paragraph's margins
SMALL_LINE = 0.85  # a line of a note
PRE_LINE, PRE_GAP = 0.72, 1.1
# Widths in em of body text: the sheet's inner width, and a line of a note or a grid's cell.
LINE_EM = 50.0
# A verification QR code (``printed_page.verification_qr``) stands beside the evidence: its
# width in pt (22 mm) and the gap, in em, are taken from the lines there; its caption is beside.
QR_PT, QR_GAP_EM = 62.4, 0.8


def text_em(text: str) -> float:
    """The width of ``text`` in em: a CJK or full-width character takes one, others about half."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.55 for ch in text)


class _Height(HTMLParser):
    """Sums the lines a page's body takes at ``size`` pt, element by element (see the module
    docstring): smaller type puts more em on a line, so paragraphs wrap less."""

    def __init__(self, size: float) -> None:
        super().__init__(convert_charrefs=True)
        self.size = size
        self.line_em = LINE_EM * 10 / size
        self.lines = SHEET
        self.in_qr = False  # reading the QR code's box, which takes no height of its own
        self.table = ""  # the class of the table being read
        self.block = ""  # the tag and class of the paragraph, heading or pre being read
        self.header = False
        self.row_class = ""
        self.cells: list[list[str]] = []  # the text of the row's cells, a line break as "\n"
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        cls = dict(attrs).get("class") or ""
        if tag == "div" and cls == "with-qr":
            self.line_em -= QR_PT / self.size + QR_GAP_EM
        elif tag == "div" and cls == "qr":
            self.in_qr = True
        if self.in_qr:
            return
        if tag == "table":
            self.table = cls
        elif tag == "tr":
            self.header, self.row_class, self.cells = False, cls, []
        elif tag in ("td", "th"):
            self.header = self.header or (tag == "th" and self.table == "grid")
            self.cells.append([])
        elif tag == "br" and self.cells:
            self.cells[-1].append("\n")
        elif tag in ("p", "pre", *HEADINGS):
            self.block, self.text = f"{tag}.{cls}", []

    def handle_data(self, data: str) -> None:
        if self.in_qr:
            return
        if self.block:
            self.text.append(data)
        elif self.cells:
            self.cells[-1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if self.in_qr:
            self.in_qr = tag != "div"
            return
        if tag == "section":
            self.line_em = LINE_EM * 10 / self.size
        if tag == "tr":
            self.lines += self._row()
        elif tag == "table":
            self.table = ""
        elif self.block.startswith(f"{tag}."):
            self.lines += self._block(tag, self.block.split(".", 1)[1], "".join(self.text))
            self.block = ""

    def _wrapped(self, text: str, width_em: float) -> int:
        return sum(max(1, math.ceil(text_em(part) / width_em)) for part in text.split("\n"))

    def _row(self) -> float:
        texts = ["".join(c) for c in self.cells]
        if self.table != "grid":  # facts: label and value cells, two pairs to a row or one
            value_em = (self.line_em - 7.5 * len(texts) / 2) / max(len(texts) / 2, 1)
            return FACT_ROW * max((self._wrapped(t, value_em) for t in texts[1::2]), default=1)
        if self.header:
            return GRID_HEADER
        if self.row_class == "group":  # a contract's line, spanning the grid: it may wrap
            return GRID_ROW * self._wrapped(texts[0], self.line_em / 0.92)
        return GRID_ROW * max((t.count("\n") + 1 for t in texts), default=1)

    def _block(self, tag: str, cls: str, text: str) -> float:
        if tag in HEADINGS:
            return HEADINGS[tag]
        if tag == "pre":
            return PRE_LINE * (text.strip("\n").count("\n") + 1) + PRE_GAP
        if cls == "links":  # not printed
            return 0.0
        if cls in ("note", "verify"):
            return SMALL_LINE * self._wrapped(text, self.line_em / 0.85) + PARAGRAPH_GAP
        return self._wrapped(text, self.line_em) + PARAGRAPH_GAP


def printed_lines(body: str, size: float = 10.0) -> float:
    """The height of a page's ``body`` (HTML) printed at ``size`` pt, in lines of that size."""
    parser = _Height(size)
    parser.feed(body)
    parser.close()
    return parser.lines


def print_size(body: str) -> str:
    """The type size (CSS) at which ``body`` prints on one A4 sheet: the largest, in steps of
    a quarter point within the bounds, whose lines fill no more than the sheet."""
    size = LARGEST_PT
    while size > SMALLEST_PT and printed_lines(body, size) * size > LINES_PER_SHEET_AT_10PT * 10:
        size -= 0.25
    return f"{size:.2f}pt"
