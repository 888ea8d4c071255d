"""Assess one credential under its policy on a date: ok, expiring, critical, expired, overdue, rotation_disabled.

Certificates expire: `expired` once `NotAfter` is reached, `critical` within `critical_days`,
`expiring` within `warn_days`. Access keys and secrets age: `overdue` past `max_age_days`,
`expiring` within `warn_days` of it (ages count whole days). Secrets and KMS keys whose policy requires rotation are
`rotation_disabled` when it is off. Example: a key created 80 days ago under max_age_days 90 and
warn_days 14 is `expiring` with 10 days left; at 90 days it still is (0 left); at 91 it is `overdue` (-1).
A secret rotating on a schedule is aged from its last scheduled rotation before `as_of` (see `schedule`).
"""

from __future__ import annotations

import math
from datetime import datetime

from harness.credentials.model import (
    ACM_CERTIFICATE,
    CRITICAL,
    EXPIRED,
    EXPIRING,
    IAM_ACCESS_KEY,
    IAM_SERVER_CERTIFICATE,
    KMS_KEY,
    OVERDUE,
    ROTATION_DISABLED,
    SECRETSMANAGER_SECRET,
    Assessment,
    Credential,
    iso,
    most_severe,
    now_utc,
    utc,
)
from harness.credentials.policy import CredentialPolicy
from harness.credentials.schedule import last_scheduled_rotation

DAY = 86400.0
EXPIRING_KINDS = frozenset({ACM_CERTIFICATE, IAM_SERVER_CERTIFICATE})
AGEING_KINDS = frozenset({IAM_ACCESS_KEY, SECRETSMANAGER_SECRET})
ROTATING_KINDS = frozenset({SECRETSMANAGER_SECRET, KMS_KEY})


def _days_between(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / DAY


def assess(credential: Credential, policy: CredentialPolicy, as_of: datetime,
           now: datetime | None = None) -> Assessment:
    """The credential's status, days left and age on `as_of` (aware UTC); `now` (default: the clock)
    tells scheduled rotations still to come from late ones."""
    as_of = utc(as_of)  # type: ignore[assignment]
    statuses: list[str] = []
    reasons: list[str] = []
    days_left: int | None = None
    rotated = last_scheduled_rotation(credential, as_of, now or now_utc())
    changed_at = rotated or credential.changed_at
    age = None if changed_at is None else _days_between(as_of, utc(changed_at))
    age_days = math.floor(age) if age is not None and age >= 0 else (0 if age is not None else None)

    if credential.kind in EXPIRING_KINDS and credential.expires_at is not None:
        remaining = _days_between(utc(credential.expires_at), as_of)  # type: ignore[arg-type]
        days_left = math.floor(remaining)
        if remaining <= 0:
            statuses.append(EXPIRED)
            reasons.append(f"expired at {iso(credential.expires_at)}")
        elif remaining <= policy.critical_days:
            statuses.append(CRITICAL)
            reasons.append(f"expires in {days_left} day(s) (critical at {policy.critical_days})")
        elif remaining <= policy.warn_days:
            statuses.append(EXPIRING)
            reasons.append(f"expires in {days_left} day(s) (warn at {policy.warn_days})")

    if credential.kind in AGEING_KINDS and credential.active and age_days is not None:
        remaining = policy.max_age_days - age_days   # whole days: a key of 90.5 days is 90 days old
        days_left = remaining
        if rotated is not None:
            reasons.append(f"rotates on schedule, last at {iso(rotated)}")
        if remaining < 0:
            statuses.append(OVERDUE)
            reasons.append(f"{age_days} day(s) old, over the maximum of {policy.max_age_days}")
        elif remaining <= policy.warn_days:
            statuses.append(EXPIRING)
            reasons.append(f"{age_days} day(s) old, due at {policy.max_age_days} (warn {policy.warn_days} before)")

    if credential.kind in ROTATING_KINDS and policy.require_rotation and credential.rotation_enabled is False:
        statuses.append(ROTATION_DISABLED)
        reasons.append("automatic rotation is required but off")

    status = most_severe(statuses)
    if not reasons:
        reasons.append(_ok_reason(credential))
    return Assessment(status=status, days_left=days_left, age_days=age_days, reason="; ".join(reasons))


def _ok_reason(credential: Credential) -> str:
    if credential.kind in AGEING_KINDS and not credential.active:
        return "inactive"
    if credential.kind in EXPIRING_KINDS and credential.expires_at is None:
        return "no expiry date (not issued yet)"
    return "within policy"
