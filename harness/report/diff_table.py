"""A small standalone HTML table of one instance's findings (the Allure attachment on a drifted item)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from harness.drift.findings import SENSITIVE_CHANGED, SET_ADDED, SET_REMOVED
from harness.report.view import show_value

FOLD_AT = 160


def findings_table_html(findings: Iterable[Mapping[str, Any]], errors: Iterable[Mapping[str, Any]] = (), *,
                        title: str = "") -> str:
    """Expected vs actual per finding, long values folded, sensitive values shown as such; inline styles only."""
    env = Environment(loader=PackageLoader("harness", "report/templates"), autoescape=select_autoescape(["j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["show"] = show_value
    return env.get_template("findings-table.html.j2").render(
        title=title, findings=list(findings), errors=list(errors), fold_at=FOLD_AT, sensitive=SENSITIVE_CHANGED,
        set_labels=(SET_REMOVED, SET_ADDED))
