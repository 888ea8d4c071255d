"""The trend chart of the drift report: one inline SVG line per count over the last runs (no script, no network)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from harness.report.history import RunTotals

# (count, colour, dash pattern) in drawing order; errors last so they are on top.
SERIES = (("suppressed", "#8c959f", "2 3"), ("unmanaged", "#8250df", ""), ("missing", "#cf222e", ""),
          ("changed", "#e36209", ""), ("errors", "#24292f", "6 3"))
WIDTH, HEIGHT = 760, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 170, 14, 34
MAX_LABELS = 6


def nice_ceiling(value: float) -> int:
    """The smallest of 1, 2, 5 x 10^k at or above `value` (at least 1): round axis ends."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return int(step * power)
    return int(10 * power)  # pragma: no cover - the loop always returns


def axis_divisions(top: int) -> int:
    """How many equal steps split 0..top into round numbers (1, 2 or 5 x 10^k each)."""
    for divisions in (4, 5, 2):
        step = top / divisions
        if step == int(step) and nice_ceiling(step) == step:
            return divisions
    return 1


def trend_chart(runs: Sequence[RunTotals]) -> str:
    """An `<svg>` with one line per count (changed, missing, unmanaged, suppressed, errors), oldest run left."""
    if not runs:
        return ""
    top = nice_ceiling(max(max(getattr(r, name) for name, _, _ in SERIES) for r in runs))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(index: int) -> float:
        return LEFT + (plot_w / 2 if len(runs) == 1 else index * plot_w / (len(runs) - 1))

    def y(value: int) -> float:
        return TOP + plot_h - value * plot_h / top

    parts = [f'<svg class="trend" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="Drift over the last {len(runs)} runs">']
    divisions = axis_divisions(top)
    for tick in range(divisions + 1):
        value = top * tick / divisions
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     'stroke="#d0d7de" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="#57606a">{value:g}</text>')
    step = max(1, math.ceil(len(runs) / MAX_LABELS))
    for index, run in enumerate(runs):
        if index % step == 0 or index == len(runs) - 1:
            parts.append(f'<text x="{x(index):.1f}" y="{HEIGHT - 12}" text-anchor="middle" font-size="11" '
                         f'fill="#57606a">{escape(_short_time(run.started))}</text>')
    for row, (name, colour, dash) in enumerate(SERIES):
        points = " ".join(f"{x(i):.1f},{y(getattr(r, name)):.1f}" for i, r in enumerate(runs))
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<polyline class="series-{name}" fill="none" stroke="{colour}" stroke-width="2"{dashed} '
                     f'points="{points}"/>')
        for i, r in enumerate(runs):
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(getattr(r, name)):.1f}" r="3" fill="{colour}">'
                         f'<title>{escape(r.started)}: {getattr(r, name)} {name}</title></circle>')
        legend_y = TOP + 10 + row * 18
        parts.append(f'<line x1="{WIDTH - RIGHT + 14}" x2="{WIDTH - RIGHT + 34}" y1="{legend_y}" y2="{legend_y}" '
                     f'stroke="{colour}" stroke-width="2"{dashed}/>')
        parts.append(f'<text x="{WIDTH - RIGHT + 40}" y="{legend_y + 4}" font-size="12" fill="#1f2328">{name} '
                     f'({getattr(runs[-1], name)})</text>')
    parts.append("</svg>")
    return "".join(parts)


def _short_time(started: str) -> str:
    """`2026-11-26T01:00:00Z` -> `11-26 01:00` (the axis has little room)."""
    if len(started) >= 16 and started[10] == "T":
        return f"{started[5:10]} {started[11:16]}"
    return started
