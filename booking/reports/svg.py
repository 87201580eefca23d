"""Charts drawn on the server as SVG: horizontal bars and columns.

Why our own few dozen lines rather than a chart library (pygal, matplotlib):
- no dependency: two chart shapes (bars and columns of one series) do not
  justify a package to install, audit and upgrade, nor its fonts and styles;
- closed network: the campus servers may reach no CDN, so no JavaScript
  charting either; the page works with scripts off and prints as it shows;
- accessible markup we control: ``role="img"`` named by ``<title>`` and
  ``<desc>``, every value written as text beside its bar, a pattern as well as
  a colour where bars belong to different kinds, the theme's colours (AA
  contrast), and tables of the same figures on the page;
- safe: every label is escaped here, in one place (labels are equipment and
  company names that users type).
The functions are pure (no Flask): numbers arrive already formatted in the
page's language, so the charts speak French or English like the tables.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from markupsafe import Markup, escape

INK, MUTED, GRID, FILL = "#15252c", "#4a5b63", "#c9d8dd", "#0a6670"
LABEL_CHARS = 56  # longer labels are cut with "…"; the full one is in the bar's <title>
# Pattern of a bar, so that kinds differ by more than colour: solid, hatched, dotted, crossed.
PATTERNS = {
    1: '<path d="M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4" stroke="{c}" stroke-width="2"/>',
    2: '<circle cx="3" cy="3" r="1.8" fill="{c}"/><circle cx="7" cy="7" r="1.8" fill="{c}"/>',
    3: '<path d="M0,4 h8 M4,0 v8" stroke="{c}" stroke-width="1.6"/>',
}


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: no figure (drawn as no bar; ``text`` says why)
    text: str  # the value as shown beside the bar
    pattern: int = 0  # a key of PATTERNS, 0 for a solid bar


def _nice_max(value: float, ticks: int) -> float:
    """The smallest round scale end (1, 2, 2.5 or 5 times a power of ten per
    tick) at or above ``value``."""
    if value <= 0:
        return float(ticks)
    raw = value / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(s for s in (1, 2, 2.5, 5, 10) if s * magnitude >= raw * (1 - 1e-9))
    return step * magnitude * ticks


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1].rstrip() + "…"


def _f(number: float) -> str:
    return f"{number:.1f}".rstrip("0").rstrip(".")


def _open(chart_id: str, width: float, height: float, title: str, desc: str) -> list[str]:
    cid = escape(chart_id)
    return [
        # Shrinks to its box (.chart in app.css), but not below three quarters
        # (the text would be too small): the empty canvas, that wide, holds the
        # box open, and a wider chart then scrolls sideways in its frame. No
        # style attribute: the Content-Security-Policy refuses them.
        '<div class="chart-box">',
        f'<canvas class="chart-floor" width="{math.ceil(width * 0.75)}" height="0" '
        'aria-hidden="true"></canvas>',
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{cid}" role="img" '
        f'width="{_f(width)}" height="{_f(height)}" viewBox="0 0 {_f(width)} {_f(height)}" '
        f'aria-labelledby="{cid}-title {cid}-desc" font-size="13" fill="{INK}">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(desc)}</desc>',
    ]


_CLOSE = "</svg></div>"  # closes what _open opened


def _defs(chart_id: str, bars: list[Bar]) -> list[str]:
    used = sorted({b.pattern for b in bars if b.pattern in PATTERNS})
    if not used:
        return []
    patterns = "".join(
        f'<pattern id="{escape(chart_id)}-p{n}" width="8" height="8" '
        f'patternUnits="userSpaceOnUse"><rect width="8" height="8" fill="#ffffff"/>'
        f'{PATTERNS[n].format(c=FILL)}</pattern>' for n in used)
    return [f"<defs>{patterns}</defs>"]


def _fill(chart_id: str, bar: Bar) -> str:
    if bar.pattern in PATTERNS:
        return f'fill="url(#{escape(chart_id)}-p{bar.pattern})" stroke="{FILL}" stroke-width="1.5"'
    return f'fill="{FILL}"'


def _bar_title(bar: Bar) -> str:
    return f"<title>{escape(bar.label)} — {escape(bar.text)}</title>"


def bar_chart(bars: Iterable[Bar], *, chart_id: str, title: str, desc: str, axis_label: str,
              maximum: float = 0.0, ticks: int = 4,
              tick_format: Callable[[float], str] = _f, width: int = 400) -> Markup:
    """One horizontal bar per item, its label above it and its value after it;
    the value axis at the bottom, from 0 to at least ``maximum``."""
    bars = list(bars)
    top, row, value_room = 6, 46, 92
    plot = width - value_room - 8
    axis_y = top + len(bars) * row + 4
    end = _nice_max(max([maximum, *(b.value or 0 for b in bars)]), ticks)
    out = _open(chart_id, width, axis_y + 46, title, desc) + _defs(chart_id, bars)
    for k in range(ticks + 1):
        x = 4 + plot * k / ticks
        out.append(f'<line x1="{_f(x)}" y1="{top}" x2="{_f(x)}" y2="{axis_y}" stroke="{GRID}"/>')
        anchor = "start" if k == 0 else "middle"
        out.append(f'<text x="{_f(x - (4 if k == 0 else 0))}" y="{axis_y + 18}" '
                   f'text-anchor="{anchor}" fill="{MUTED}">{escape(tick_format(end * k / ticks))}'
                   f"</text>")
    out.append(f'<line x1="4" y1="{axis_y}" x2="{_f(4 + plot)}" y2="{axis_y}" stroke="{MUTED}"/>')
    out.append(f'<text x="{_f(4 + plot / 2)}" y="{axis_y + 40}" text-anchor="middle" '
               f'font-weight="600">{escape(axis_label)}</text>')
    for i, bar in enumerate(bars):
        y = top + i * row
        length = plot * (bar.value or 0) / end
        out.append(f"<g>{_bar_title(bar)}")
        out.append(f'<text x="4" y="{y + 15}" font-size="14">{escape(_cut(bar.label))}</text>')
        if bar.value is not None:
            out.append(f'<rect x="4" y="{y + 22}" width="{_f(length)}" height="16" '
                       f"{_fill(chart_id, bar)}/>")
        out.append(f'<text x="{_f(4 + length + 6)}" y="{y + 35}" font-weight="600">'
                   f"{escape(bar.text)}</text></g>")
    out.append(_CLOSE)
    return Markup("".join(out))  # noqa: S704 - every label, text and id went through escape()


def column_chart(bars: Iterable[Bar], *, chart_id: str, title: str, desc: str,
                 axis_label: str, maximum: float = 0.0, ticks: int = 4,
                 tick_format: Callable[[float], str] = _f) -> Markup:
    """One column per item (a month), its value above it and its label, which
    may hold a line break, below; the value axis on the left."""
    bars = list(bars)
    left, top, plot_h = 64, 24, 200
    slot = max(48.0, 328 / max(len(bars), 1))
    width = left + slot * len(bars) + 8
    base = top + plot_h
    end = _nice_max(max([maximum, *(b.value or 0 for b in bars)]), ticks)
    out = _open(chart_id, width, base + 52, title, desc) + _defs(chart_id, bars)
    for k in range(ticks + 1):
        y = base - plot_h * k / ticks
        out.append(f'<line x1="{left}" y1="{_f(y)}" x2="{_f(width - 8)}" y2="{_f(y)}" '
                   f'stroke="{GRID if k else MUTED}"/>')
        out.append(f'<text x="{left - 6}" y="{_f(y + 4)}" text-anchor="end" fill="{MUTED}">'
                   f"{escape(tick_format(end * k / ticks))}</text>")
    middle = top + plot_h / 2
    out.append(f'<text x="16" y="{_f(middle)}" text-anchor="middle" font-weight="600" '
               f'transform="rotate(-90 16 {_f(middle)})">{escape(axis_label)}</text>')
    for i, bar in enumerate(bars):
        centre = left + slot * i + slot / 2
        column = min(slot * 0.6, 64)
        height = plot_h * (bar.value or 0) / end
        out.append(f"<g>{_bar_title(bar)}")
        if bar.value is not None:
            out.append(f'<rect x="{_f(centre - column / 2)}" y="{_f(base - height)}" '
                       f'width="{_f(column)}" height="{_f(height)}" {_fill(chart_id, bar)}/>')
        out.append(f'<text x="{_f(centre)}" y="{_f(base - height - 6)}" text-anchor="middle" '
                   f'font-weight="600">{escape(bar.text)}</text>')
        lines = "".join(f'<tspan x="{_f(centre)}" dy="{0 if n == 0 else 16}">{escape(line)}'
                        f"</tspan>" for n, line in enumerate(bar.label.split("\n")))
        out.append(f'<text x="{_f(centre)}" y="{base + 18}" text-anchor="middle">{lines}'
                   f"</text></g>")
    out.append(_CLOSE)
    return Markup("".join(out))  # noqa: S704 - every label, text and id went through escape()


def grouped_bar_chart(groups: Iterable[tuple[str, list[Bar]]], *, series: list[tuple[str, int]],
                      chart_id: str, title: str, desc: str, axis_label: str,
                      maximum: float = 0.0, ticks: int = 4,
                      tick_format: Callable[[float], str] = _f, width: int = 400) -> Markup:
    """Several horizontal bars per item (a machine's booked and used hours), the
    item's label above them and each value after its bar; ``series`` names the
    bars of an item, in order, with their pattern, in a legend at the top (the
    series differ by pattern as well as colour)."""
    groups = list(groups)
    bar_h, gap, value_room = 14, 4, 92
    legend_h = 26
    top = 6 + legend_h
    per = max([len(bars) for _label, bars in groups] or [1])
    row = 22 + per * (bar_h + gap) + 4
    plot = width - value_room - 8
    axis_y = top + len(groups) * row + 4
    every = [bar for _label, bars in groups for bar in bars]
    end = _nice_max(max([maximum, *(b.value or 0 for b in every)]), ticks)
    legend_bars = [Bar(name, 0.0, "", pattern) for name, pattern in series]
    out = _open(chart_id, width, axis_y + 46, title, desc) + _defs(chart_id,
                                                                   every + legend_bars)
    x = 4.0
    for bar in legend_bars:
        out.append(f'<rect x="{_f(x)}" y="6" width="14" height="14" {_fill(chart_id, bar)}/>')
        out.append(f'<text x="{_f(x + 20)}" y="18">{escape(_cut(bar.label))}</text>')
        x += 20 + 7.5 * len(_cut(bar.label)) + 16
    for k in range(ticks + 1):
        gx = 4 + plot * k / ticks
        out.append(f'<line x1="{_f(gx)}" y1="{top}" x2="{_f(gx)}" y2="{axis_y}" '
                   f'stroke="{GRID}"/>')
        anchor = "start" if k == 0 else "middle"
        out.append(f'<text x="{_f(gx - (4 if k == 0 else 0))}" y="{axis_y + 18}" '
                   f'text-anchor="{anchor}" fill="{MUTED}">{escape(tick_format(end * k / ticks))}'
                   f"</text>")
    out.append(f'<line x1="4" y1="{axis_y}" x2="{_f(4 + plot)}" y2="{axis_y}" stroke="{MUTED}"/>')
    out.append(f'<text x="{_f(4 + plot / 2)}" y="{axis_y + 40}" text-anchor="middle" '
               f'font-weight="600">{escape(axis_label)}</text>')
    for i, (label, bars) in enumerate(groups):
        y = top + i * row
        out.append(f'<g><text x="4" y="{y + 15}" font-size="14">{escape(_cut(label))}</text>')
        for j, bar in enumerate(bars):
            by = y + 22 + j * (bar_h + gap)
            length = plot * (bar.value or 0) / end
            out.append(f"<g><title>{escape(label)} — {escape(bar.label)} — {escape(bar.text)}"
                       "</title>")
            if bar.value is not None:
                out.append(f'<rect x="4" y="{by}" width="{_f(length)}" height="{bar_h}" '
                           f"{_fill(chart_id, bar)}/>")
            out.append(f'<text x="{_f(4 + length + 6)}" y="{by + 12}" font-weight="600">'
                       f"{escape(bar.text)}</text></g>")
        out.append("</g>")
    out.append(_CLOSE)
    return Markup("".join(out))  # noqa: S704 - every label, text and id went through escape()
