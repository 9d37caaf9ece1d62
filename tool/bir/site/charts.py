"""Static SVG charts made at build time, each with its data beside it as a table; no script, no other host.

Why not a charting library: the charts are bar charts of a few dozen values, and the candidates each break
something the site needs. pygal gives every chart a random id and a generation date (so an unchanged page
would change on every build) and loads its tooltip script from another host; matplotlib (with numpy, some
40 MB) draws fixed colours that ignore the theme's palette, and has no <title>/<desc>; Vega-Lite through
vl-convert ships a JavaScript runtime of its own. Here layout is arithmetic on a fixed grid: tick values are
"nice" numbers, labels are measured with a conservative width per character and thinned or shortened so no
two texts can overlap (the browser tests compare their boxes), the chart's title and legend are HTML, and an
empty chart says "Nothing to show" instead of drawing an axis.

Every chart is a `<figure>`: caption, SVG (`role="img"`, `<title>` and `<desc>`), legend, and a table of the
same numbers (`data-sort` holding the exact value). Every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

FONT = 13  # px, in the chart's own coordinates
WIDTH = 560


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar (or row) of a chart: its label, a value per series, and where it links to (or "")."""

    label: str
    values: tuple[Decimal, ...]
    href: str = ""


def text_width(text: str, size: float = FONT) -> float:
    return len(text) * 0.64 * size


def shorten(text: str, width: float, size: float = FONT) -> str:
    """`text`, cut with an ellipsis so it fits in `width` px."""
    fits = max(int(width / (0.64 * size)), 1)
    return text if len(text) <= fits else text[: max(fits - 1, 1)] + "…"


def nice_ticks(peak: float, count: bool, most: int = 5) -> list[float]:
    """0 and up to `most` evenly spaced round values covering `peak` (whole numbers for counts)."""
    if peak <= 0:
        return [0.0, 1.0]
    raw = peak / most
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    if count:
        step = max(1.0, math.ceil(step))
    ticks = [0.0]
    while ticks[-1] < peak:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def tick_label(value: float, step: float, top: float | None = None) -> str:
    """A tick's text in the unit of the axis's top value (1.5M, 250k, 12), with as many decimals as the step
    needs, so neighbours never read alike."""
    top = value if top is None else top
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(top) >= div:
            digits = 0 if step / div >= 1 else (1 if step / div >= 0.1 else 2)
            return f"{value / div:,.{digits}f}{suffix}" if value else "0"
    digits = 0 if step >= 1 else 2
    return f"{value:,.{digits}f}"


def amount(value: Decimal, money: bool) -> str:
    return f"{value:,.2f}" if money else f"{value:,.0f}"


def figure(
    ident: str,
    title: str,
    desc: str,
    series: Sequence[tuple[str, str]],
    bars: Sequence[Bar],
    *,
    horizontal: bool,
    money: bool = False,
    unit: str = "",
    empty: str = "no data",
    key_label: str = "",
) -> str:
    """A chart with its caption, legend and data table; "Nothing to show" when every value is zero.

    `series` is (name, CSS class) per value of each bar: several series stack. `unit` is said in the
    caption and the data table's head (e.g. the base currency).
    """
    head = f'<figure class="bir-chart-fig" id="{escape(ident)}"><figcaption>{escape(title)}'
    head += f' <span class="bir-unit">({escape(unit)})</span>' if unit else ""
    head += "</figcaption>"
    if not bars or all(v == 0 for b in bars for v in b.values):
        return head + f'<p class="bir-nothing">Nothing to show: {escape(empty)}.</p></figure>'
    peak_bar = max(bars, key=lambda b: sum(b.values))
    full = f"{desc} Largest: {peak_bar.label}, {amount(sum(peak_bar.values, Decimal(0)), money)}{(' ' + unit) if unit else ''}."
    svg = (_hbars if horizontal else _columns)(ident, title, full, series, bars, money)
    legend = ""
    if len(series) > 1:
        legend = '<ul class="bir-legend">' + "".join(
            f'<li><span class="bir-swatch {escape(cls)}"></span>{escape(name)}</li>' for name, cls in series) + "</ul>"
    return head + f'<div class="bir-chart-body"><div class="bir-chart-svg">{svg}{legend}</div>' + _table(
        ident, key_label or "", series, bars, money, unit) + "</div></figure>"


def _table(ident: str, key_label: str, series: Sequence[tuple[str, str]], bars: Sequence[Bar], money: bool, unit: str) -> str:
    cols = "".join(f'<th class="bir-num">{escape(name)}</th>' for name, _ in series)
    total = '<th class="bir-num">total</th>' if len(series) > 1 else ""
    rows = []
    for b in bars:
        label = f'<a href="{escape(b.href)}">{escape(b.label)}</a>' if b.href else escape(b.label)
        cells = "".join(f'<td class="bir-num" data-sort="{v}">{amount(v, money)}</td>' for v in b.values)
        if len(series) > 1:
            s = sum(b.values, Decimal(0))
            cells += f'<td class="bir-num" data-sort="{s}">{amount(s, money)}</td>'
        rows.append(f'<tr><td class="bir-id">{label}</td>{cells}</tr>')
    caption = f"The numbers of this chart{(' (' + escape(unit) + ')') if unit else ''}"
    return (f'<div class="bir-chart-data"><table class="bir-data" id="{escape(ident)}-data"><caption>{caption}</caption>'
            f'<thead><tr><th>{escape(key_label)}</th>{cols}{total}</tr></thead><tbody>' + "".join(rows) + "</tbody></table></div>")


def _open(ident: str, title: str, desc: str, width: float, height: float) -> str:
    return (f'<svg class="bir-chart" role="img" aria-labelledby="{escape(ident)}-t {escape(ident)}-d" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
            f'xmlns="http://www.w3.org/2000/svg"><title id="{escape(ident)}-t">{escape(title)}</title>'
            f'<desc id="{escape(ident)}-d">{escape(desc)}</desc>')


def _columns(ident: str, title: str, desc: str, series: Sequence[tuple[str, str]], bars: Sequence[Bar], money: bool) -> str:
    """Vertical bars (stacked per series) over categories such as quarters or years."""
    totals = [float(sum(b.values, Decimal(0))) for b in bars]
    ticks = nice_ticks(max(totals), not money)
    step_v = ticks[1] - ticks[0]
    labels = [tick_label(t, step_v, ticks[-1]) for t in ticks]
    left = max(text_width(t) for t in labels) + 10
    top, right, height = 10, 8, 240
    longest = max(text_width(b.label) for b in bars)
    bottom = FONT * 2 + 4
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    step = plot_w / len(bars)
    every = max(1, math.ceil((longest + 6) / step))  # show every n-th label so that none touch
    peak = ticks[-1]
    parts = [_open(ident, title, desc, WIDTH, height)]
    for t, text in zip(ticks, labels, strict=True):
        y = top + plot_h - plot_h * t / peak
        parts.append(f'<line class="bir-grid" x1="{left:.1f}" y1="{y:.1f}" x2="{WIDTH - right:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="bir-tick" x="{left - 6:.1f}" y="{y + FONT * 0.35:.1f}" text-anchor="end">{text}</text>')
    for i, b in enumerate(bars):
        x = left + i * step + step * 0.15
        base = float(top + plot_h)
        for (name, cls), v in zip(series, b.values, strict=True):
            h = plot_h * float(v) / peak
            if h <= 0:
                continue
            base -= h
            parts.append(f'<rect class="bir-bar {escape(cls)}" x="{x:.1f}" y="{base:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}">'
                         f"<title>{escape(b.label)}, {escape(name)}: {amount(v, money)}</title></rect>")
        if i % every == 0:
            parts.append(f'<text class="bir-label" x="{x + step * 0.35:.1f}" y="{top + plot_h + FONT + 4:.1f}" '
                         f'text-anchor="middle">{escape(b.label)}</text>')
    parts.append(f'<line class="bir-axis" x1="{left:.1f}" y1="{top + plot_h:.1f}" x2="{WIDTH - right:.1f}" y2="{top + plot_h:.1f}"/>')
    parts.append("</svg>")
    return "".join(parts)


def _hbars(ident: str, title: str, desc: str, series: Sequence[tuple[str, str]], bars: Sequence[Bar], money: bool) -> str:
    """Horizontal bars (stacked per series), one row per category, its label on the left and total on the right."""
    row = FONT * 2
    label_w = min(max(text_width(b.label) for b in bars), WIDTH * 0.36)
    totals = [sum(b.values, Decimal(0)) for b in bars]
    value_w = max(text_width(amount(t, money)) for t in totals) + 8
    left, right = label_w + 10, 8
    plot_w = WIDTH - left - right - value_w
    height = row * len(bars) + 6
    peak = float(max(totals)) or 1.0
    parts = [_open(ident, title, desc, WIDTH, height)]
    for i, b in enumerate(bars):
        y = 3 + i * row
        short = shorten(b.label, label_w)
        label = f'<text class="bir-label" x="{left - 6:.1f}" y="{y + row / 2 + FONT * 0.35:.1f}" text-anchor="end">{escape(short)}</text>'
        parts.append(f'<a href="{escape(b.href)}">{label}</a>' if b.href else label)
        x = left
        for (name, cls), v in zip(series, b.values, strict=True):
            w = plot_w * float(v) / peak
            if w <= 0:
                continue
            parts.append(f'<rect class="bir-bar {escape(cls)}" x="{x:.1f}" y="{y + 3:.1f}" width="{w:.1f}" height="{row - 6:.1f}">'
                         f"<title>{escape(b.label)}, {escape(name)}: {amount(v, money)}</title></rect>")
            x += w
        parts.append(f'<text class="bir-tick" x="{x + 4:.1f}" y="{y + row / 2 + FONT * 0.35:.1f}">{amount(totals[i], money)}</text>')
    parts.append(f'<line class="bir-axis" x1="{left:.1f}" y1="0" x2="{left:.1f}" y2="{height:.0f}"/>')
    parts.append("</svg>")
    return "".join(parts)


def relation_diagram(
    center: tuple[str, str], incoming: Sequence[tuple[str, str, str]], outgoing: Sequence[tuple[str, str, str]], limit: int = 12
) -> str:
    """The record in the middle, records pointing at it on the left, its targets on the right.

    `center` is (label, href); each relation is (relation type, label, href or "").
    """
    inc, out = list(incoming)[:limit], list(outgoing)[:limit]
    row, width = 34, 760
    height = max(len(inc), len(out), 1) * row + 20
    cy = height / 2
    parts = [
        f'<svg class="bir-diagram" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>Relations of {escape(center[0])}</title>'
    ]

    def node(x: float, y: float, label: str, href: str, cls: str) -> str:
        short = label if len(label) <= 26 else label[:25] + "…"
        box = (
            f'<rect class="bir-node {cls}" x="{x:.0f}" y="{y - 12:.0f}" width="200" height="24" rx="4"/>'
            f'<text class="bir-node-label" x="{x + 100:.0f}" y="{y + 4:.0f}" text-anchor="middle">{escape(short)}</text>'
        )
        return f'<a href="{escape(href)}">{box}</a>' if href else box

    for i, (rtype, label, href) in enumerate(inc):
        y = 10 + row * i + row / 2
        parts.append(f'<line class="bir-edge" x1="210" y1="{y:.0f}" x2="280" y2="{cy:.0f}"/>')
        parts.append(f'<text class="bir-edge-label" x="214" y="{y - 4:.0f}">{escape(shorten(rtype, 64, 10))}</text>')
        parts.append(node(8, y, label, href, "in"))
    for i, (rtype, label, href) in enumerate(out):
        y = 10 + row * i + row / 2
        parts.append(f'<line class="bir-edge" x1="480" y1="{cy:.0f}" x2="552" y2="{y:.0f}"/>')
        parts.append(f'<text class="bir-edge-label" x="486" y="{y - 4:.0f}">{escape(shorten(rtype, 64, 10))}</text>')
        parts.append(node(552, y, label, href, "out"))
    parts.append(node(280, cy, center[0], center[1], "self"))
    parts.append("</svg>")
    return "".join(parts)
