"""The machines' check-in labels: a QR code of the machine's check-in page
(made by segno, a maintained pure-Python QR library), its code and name and
the site, as one SVG; sheets of them for printing.

The QR is drawn from segno's module matrix as one path, one rectangle per run
of dark modules in a row, so that the label is a single SVG document with no
image inside, sharp at any printing size. Names are written on one line
(booking.services.inputs.single_line) and escaped: a stored name cannot break
the XML.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import segno

from booking.services.inputs import single_line
from models import Equipment

# Millimetres: eight labels (2 × 4) fill an A4 sheet with 10 mm margins.
WIDTH, HEIGHT = 90, 64
QR_SIZE = 44
QR_X, QR_Y = 3, 3
QUIET_ZONE = 4  # modules of white around the code, as ISO/IEC 18004 asks
ERROR_LEVEL = "M"
TEXT_X = QR_X + QR_SIZE + 3
TEXT_WIDTH = WIDTH - TEXT_X - 3  # millimetres beside the QR code
# Characters per line (DejaVu Sans is about 0.58 em a character): the name in
# 4 mm type, the site in 3 mm type; the code shrinks to fit on its line.
NAME_WIDTH = 15
SITE_WIDTH = 21
CODE_SIZE = 5.0
EM_PER_CHAR = 0.75  # bold capitals and digits, with room to spare


@dataclass(frozen=True)
class LabelText:
    """The words of a label, already in the reader's language."""

    hint: str  # « Scannez pour démarrer »
    site: str


def qr_code(url: str) -> segno.QRCode:
    return segno.make(url, error=ERROR_LEVEL, micro=False, boost_error=False)


def qr_path(url: str) -> tuple[int, str]:
    """(modules per side, quiet zone included; the path of the dark modules)."""
    matrix = qr_code(url).matrix
    parts = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                run = x
                while run < len(row) and row[run]:
                    run += 1
                parts.append(f"M{x + QUIET_ZONE},{y + QUIET_ZONE}h{run - x}v1h-{run - x}z")
                x = run
            else:
                x += 1
    return len(matrix) + 2 * QUIET_ZONE, "".join(parts)


def _text(x: float, y: float, size: float, value: str, *, weight: str = "normal",
          css_class: str = "") -> str:
    return (f'<text x="{x}" y="{y}" font-size="{size}" font-weight="{weight}" '
            f'class={quoteattr(css_class)}>{escape(single_line(value))}</text>')


def _fitting_size(code: str) -> float:
    """The code's type size: 5 mm, smaller for a long code (« TRS-LC-01-REMP »)."""
    return round(min(CODE_SIZE, TEXT_WIDTH / (EM_PER_CHAR * max(len(code), 1))), 2)


def label_svg(equipment: Equipment, url: str, words: LabelText, *,
              standalone: bool = True) -> str:
    """The label of one machine; ``standalone``: a whole .svg file (with its XML
    declaration), else an element to put inline in an HTML page."""
    modules, path = qr_path(url)
    name_lines = textwrap.wrap(single_line(equipment.name), NAME_WIDTH)[:3] or [""]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="qr-label" role="img" '
        f'width="{WIDTH}mm" height="{HEIGHT}mm" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'font-family="DejaVu Sans, Arial, Helvetica, sans-serif" '
        f'data-equipment-id="{equipment.id}" data-url={quoteattr(url)} '
        f'aria-label={quoteattr(single_line(f"{equipment.code} {equipment.name}"))}>',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff" stroke="#000" '
        f'stroke-width="0.3" rx="2"/>',
        f'<svg x="{QR_X}" y="{QR_Y}" width="{QR_SIZE}" height="{QR_SIZE}" '
        f'viewBox="0 0 {modules} {modules}" shape-rendering="crispEdges" class="qr-code">'
        f'<rect width="{modules}" height="{modules}" fill="#fff"/>'
        f'<path fill="#000" d="{path}"/></svg>',
        _text(TEXT_X, 10, _fitting_size(equipment.code), equipment.code, weight="bold",
              css_class="qr-label-code"),
    ]
    for n, line in enumerate(name_lines):
        parts.append(_text(TEXT_X, 18 + n * 5, 4, line, css_class="qr-label-name"))
    for n, line in enumerate(textwrap.wrap(single_line(words.site), SITE_WIDTH)[:3]):
        parts.append(_text(TEXT_X, 37 + n * 4, 3, line, css_class="qr-label-site"))
    parts.append(_text(QR_X + 1, HEIGHT - 7, 4.5, words.hint, weight="bold",
                       css_class="qr-label-hint"))
    parts.append("</svg>")
    body = "".join(parts)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n" if standalone else body
