"""The credentials section of the HTML report, rendered from `drift.json`'s `credentials` rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from harness.credentials.model import row_order
from harness.log import Redactor
from harness.report.html import report_environment

SECTION_TEMPLATE = "credentials-section.html.j2"


def sort_rows(rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Fewest days left first; rows without a deadline (KMS keys, inactive keys) last."""
    return sorted(rows, key=row_order)


def render_credentials_section(rows: Iterable[Mapping[str, Any]], *, redactor: Redactor) -> str:
    """The section as an HTML fragment (the drift report includes the same partial)."""
    html = report_environment().get_template(SECTION_TEMPLATE).render(doc={"credentials": sort_rows(rows)})
    return redactor.redact(html)
