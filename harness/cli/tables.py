"""Tables for the terminal (rich) or for pipes and files (plain aligned columns), always redacted."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.table import Table

from harness.cli.common import CommandContext

STATUS_STYLES = {"ok": "green", "held": "green", "warn": "yellow", "stale": "yellow",
                 "orphaned": "magenta", "fail": "red", "malformed": "red", "failed": "red",
                 "removed": "cyan", "changed": "yellow", "skipped": "yellow"}


def cell(value: Any) -> str:
    """How a value shows in a table: `-` for None, numbers as they are."""
    return "-" if value is None else str(value)


def format_age(seconds: float | None) -> str:
    """`45s`, `12m`, `3h05m`, `2d04h` (`-` when unknown)."""
    if seconds is None:
        return "-"
    sign, seconds = ("-" if seconds < 0 else ""), abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d{hours:02d}h"
    if hours:
        return f"{sign}{hours}h{minutes:02d}m"
    return f"{sign}{minutes}m" if minutes else f"{sign}{secs}s"


def print_table(ctx: CommandContext, columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
                status_column: str | None = None) -> None:
    """A rich table on a terminal; plain space-aligned columns otherwise (stable for scripts and diffs)."""
    cells = [[ctx.redactor.redact(cell(v)) for v in row] for row in rows]
    status_at = columns.index(status_column) if status_column in columns else None
    if ctx.console.is_terminal:
        table = Table(*columns, show_lines=False, highlight=False)
        for row in cells:
            style = STATUS_STYLES.get(row[status_at], "") if status_at is not None else ""
            table.add_row(*[f"[{style}]{v}[/]" if i == status_at and style else _escape(v)
                            for i, v in enumerate(row)])
        ctx.console.print(table)
        return
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    for row in [list(columns), *cells]:
        ctx.write("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
