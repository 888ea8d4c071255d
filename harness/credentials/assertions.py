"""Readable test outcomes for credentials: fail on critical/expired/overdue/rotation_disabled, warn on expiring."""

from __future__ import annotations

import warnings
from collections.abc import Iterable

from harness.credentials.model import FAILING, WARNING, CredentialRow, iso


class CredentialWarning(UserWarning):
    """A credential expiring soon (within warn_days), or a note on the check (a credential not found live)."""


def credential_table(rows: Iterable[CredentialRow]) -> str:
    """status | days left | kind | credential | expires | reason, one line per credential."""
    table = [("status", "days", "kind", "credential", "expires", "reason")]
    for row in rows:
        c, a = row.credential, row.assessment
        table.append((a.status, "—" if a.days_left is None else str(a.days_left), c.kind, c.name or c.id,
                      (iso(c.expires_at) or "—")[:10], a.reason))
    widths = [max(len(r[i]) for r in table) for i in range(5)]
    return "\n".join("  ".join([*(cell.ljust(w) for cell, w in zip(row[:5], widths, strict=True)), row[5]]).rstrip()
                     for row in table)


def assert_credentials_ok(owner: str, rows: Iterable[CredentialRow], notes: Iterable[str] = ()) -> None:
    """Fail when a credential is critical, expired, overdue or rotation_disabled (the rule of `creds check`);
    warn when expiring."""
    rows = list(rows)
    failing = [r for r in rows if r.status in FAILING]
    warning = [r for r in rows if r.status in WARNING]
    for note in notes:
        warnings.warn(CredentialWarning(f"{owner}: {note}"), stacklevel=2)
    if warning:
        warnings.warn(CredentialWarning(f"{owner}: {len(warning)} credential(s) need attention\n"
                                        + credential_table(warning)), stacklevel=2)
    if failing:
        raise AssertionError(f"{owner}: {len(failing)} credential(s) expired, critical, overdue or not rotating\n"
                             + credential_table(failing))
