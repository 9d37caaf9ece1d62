"""Static SVG charts made at build time: no JavaScript chart library, no request to any other host.

Each function takes plain (label, value) data and returns an `<svg>` string; every label is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def _fmt(value: float) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if abs(value) >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:,.0f}"


def bar_chart(title: str, bars: Sequence[tuple[str, float, str]], *, height: int = 220, unit: str = "") -> str:
    """Vertical bars; the third item of each bar is a CSS class (`actual`, `forecast`, ...)."""
    width = max(320, 48 * len(bars) + 60)
    top, bottom, left = 28, 36, 50
    plot_h = height - top - bottom
    peak = max((v for _, v, _ in bars), default=0) or 1
    step = (width - left - 10) / max(len(bars), 1)
    parts = [
        f'<svg class="bir-chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<text class="bir-chart-title" x="{left}" y="16">{escape(title)}</text>',
        f'<line class="bir-axis" x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}"/>',
    ]
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<text class="bir-tick" x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{_fmt(peak * i / 4)}</text>')
    for i, (label, value, cls) in enumerate(bars):
        h = plot_h * value / peak
        x = left + i * step + step * 0.15
        parts.append(
            f'<rect class="bir-bar {escape(cls)}" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{step * 0.7:.1f}" '
            f'height="{h:.1f}"><title>{escape(label)}: {_fmt(value)}{escape(unit)}</title></rect>'
        )
        parts.append(
            f'<text class="bir-label" x="{x + step * 0.35:.1f}" y="{top + plot_h + 14}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def hbar_chart(title: str, bars: Sequence[tuple[str, float]], *, unit: str = "", cls: str = "") -> str:
    """Horizontal bars with labels on the left, for categories (states, services)."""
    row, top, left, width = 22, 28, 190, 560
    height = top + row * max(len(bars), 1) + 8
    peak = max((v for _, v in bars), default=0) or 1
    parts = [
        f'<svg class="bir-chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<text class="bir-chart-title" x="4" y="16">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(bars):
        y = top + i * row
        w = (width - left - 60) * value / peak
        short = label if len(label) <= 28 else label[:27] + "…"
        parts.append(f'<text class="bir-label" x="{left - 6}" y="{y + 14}" text-anchor="end">{escape(short)}</text>')
        parts.append(
            f'<rect class="bir-bar {escape(cls)}" x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 6}">'
            f"<title>{escape(label)}: {_fmt(value)}{escape(unit)}</title></rect>"
        )
        parts.append(f'<text class="bir-tick" x="{left + w + 4:.1f}" y="{y + 14}">{_fmt(value)}</text>')
    if not bars:
        parts.append(f'<text class="bir-label" x="4" y="{top + 14}">nothing to show</text>')
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
        f'<svg class="bir-diagram" role="img" viewBox="0 0 {width} {height}" width="100%" '
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
        parts.append(f'<text class="bir-edge-label" x="214" y="{y - 4:.0f}">{escape(rtype)}</text>')
        parts.append(node(8, y, label, href, "in"))
    for i, (rtype, label, href) in enumerate(out):
        y = 10 + row * i + row / 2
        parts.append(f'<line class="bir-edge" x1="480" y1="{cy:.0f}" x2="552" y2="{y:.0f}"/>')
        parts.append(f'<text class="bir-edge-label" x="486" y="{y - 4:.0f}">{escape(rtype)}</text>')
        parts.append(node(552, y, label, href, "out"))
    parts.append(node(280, cy, center[0], center[1], "self"))
    parts.append("</svg>")
    return "".join(parts)
