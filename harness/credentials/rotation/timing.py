"""Grace periods: the old credential is deleted only on a later run, once `grace_days` have passed."""

from __future__ import annotations

from datetime import datetime, timedelta

from harness.credentials.model import iso
from harness.credentials.rotation.engine import RotationContext


def grace_over(since: str | None, since_run: str | None, grace_days: int, ctx: RotationContext) -> str | None:
    """None when the old credential may be deleted now, else why not (for a `Wait`)."""
    if not since:
        return None
    start = datetime.fromisoformat(since.replace("Z", "+00:00"))
    deadline = start + timedelta(days=grace_days)
    if since_run == ctx.run_id:
        return f"it is deleted on a later run after {grace_days} day(s) of grace (from {iso(deadline)})"
    if ctx.now < deadline:
        return f"the grace period of {grace_days} day(s) ends at {iso(deadline)}; a later run deletes it"
    return None
