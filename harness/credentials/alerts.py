"""The credential alert: which rows deserve a notification, as subject, text and JSON payload."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from harness.credentials.check import CredentialReport
from harness.credentials.model import OK, CredentialRow, iso, owner_label, status_summary


def alert_rows(rows: Iterable[CredentialRow]) -> list[CredentialRow]:
    """Rows that are not `ok`, in report order."""
    return [r for r in rows if r.status != OK]


def alert_message(report: CredentialReport) -> tuple[str, str, dict[str, Any]] | None:
    """(subject, text, payload) for a report with something to say, else None."""
    rows = alert_rows(report.rows)
    if not rows and not report.errors:
        return None
    summary = status_summary(r.status for r in rows) or "no findings"
    subject = f"stackharness credential alert — {summary}"
    lines = [f"Credentials as of {iso(report.as_of)}: {summary}."]
    for row in rows:
        c = row.credential
        days = "" if row.assessment.days_left is None else f", {row.assessment.days_left} day(s) left"
        lines.append(f"- {row.status}: {c.kind} {c.name or c.id} ({owner_label(row.to_json())}{days}) — "
                     f"{row.assessment.reason}")
    if report.errors:
        lines.append(f"{len(report.errors)} part(s) of the inventory or instance states could not be read.")
    payload = {"as_of": iso(report.as_of), "credentials": [r.to_json() for r in rows],
               "errors": [e.to_json() for e in report.errors]}
    return subject, "\n".join(lines), payload
