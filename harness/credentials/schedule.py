"""When a secret rotating on a schedule will last have rotated by a date (for `creds check --as-of`).

A secret with rotation on and a schedule (`NextRotationDate`, `RotationRules.AutomaticallyAfterDays`)
is new again after each rotation, so its age on a later date counts from the last scheduled rotation
before it. A schedule whose next rotation is already late (before now) is not trusted: the age counts
from the last real change, so a failing rotation still shows as overdue.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from harness.credentials.model import SECRETSMANAGER_SECRET, Credential, utc


def _parse(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, str) and value:
        return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    return None


def last_scheduled_rotation(credential: Credential, as_of: datetime, now: datetime) -> datetime | None:
    """The last rotation scheduled after `now` and at or before `as_of`, or None (none, or no trusted schedule)."""
    if credential.kind != SECRETSMANAGER_SECRET or not credential.rotation_enabled:
        return None
    days = credential.details.get("rotation_days")
    period = timedelta(days=days) if isinstance(days, int) and not isinstance(days, bool) and days > 0 else None
    next_at = _parse(credential.details.get("next_rotation_at"))
    if next_at is None and period is not None:
        last = _parse(credential.details.get("last_rotated_at")) or credential.changed_at
        next_at = utc(last) + period if last is not None else None
    if next_at is None or next_at < utc(now) or next_at > utc(as_of):   # type: ignore[operator]
        return None
    if period is None:          # only the next rotation is known
        return next_at
    return next_at + period * ((utc(as_of) - next_at) // period)   # type: ignore[operator]
