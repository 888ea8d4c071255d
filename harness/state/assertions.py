"""Readable outcomes for the state suite: failed checks fail, warnings warn, unreadable states error."""

from __future__ import annotations

import warnings
from collections.abc import Iterable

from harness.state.locks import LockRow
from harness.state.verify import FAIL, WARN, CheckRow


class StateCheckFailed(AssertionError):
    """A state or lock check failed; pytest shows only the message."""


class StateCheckWarning(UserWarning):
    """A state or lock check that deserves a look but does not fail (e.g. a lock held right now)."""


def assert_checks_pass(rows: Iterable[CheckRow], *checks: str) -> None:
    """Fail on `fail` rows of the named checks, warn on `warn` rows."""
    __tracebackhide__ = True
    selected = [r for r in rows if r.check in checks]
    for row in selected:
        if row.status == WARN:
            warnings.warn(StateCheckWarning(f"{row.instance}: {row.check}: {row.detail}"), stacklevel=2)
    failures = [r for r in selected if r.status == FAIL]
    if failures:
        raise StateCheckFailed("\n".join(f"{r.instance}: {r.check}: {r.detail}" for r in failures))


def assert_no_abandoned_locks(rows: Iterable[LockRow]) -> None:
    """Fail on stale or malformed locks (someone must look); warn on a lock held right now."""
    __tracebackhide__ = True
    rows = list(rows)
    for row in rows:
        if row.verdict == "held":
            warnings.warn(StateCheckWarning(f"{row.location}: locked by {row.who} for {row.operation} "
                                            f"since {row.created}"), stacklevel=2)
    bad = [r for r in rows if r.verdict in ("stale", "malformed")]
    if bad:
        lines = [f"{r.location}: {r.verdict} {r.lock_kind} lock {r.lock_id or ''} ({r.operation or '?'} by "
                 f"{r.who or '?'}, created {r.created or '?'}, age {r.age_s:.0f}s)"
                 if r.age_s is not None else f"{r.location}: {r.verdict} {r.lock_kind} lock ({r.problem})"
                 for r in bad]
        raise StateCheckFailed("\n".join(lines) + "\nreview and remove abandoned locks with "
                               "`stackharness locks clean` (dry run first; --yes to remove)")
