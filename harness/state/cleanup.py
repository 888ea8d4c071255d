"""Remove abandoned Terraform locks safely: a plan first, then conditional deletes, each one audited.

Safety rules: only `stale` locks (and `orphaned` ones past the threshold, when asked) are candidates;
`malformed` and `held` locks are never touched, nor are digest items or states. A delete succeeds only
if the lock is still exactly what was read (see `harness.state.writes`), so a lock re-acquired between
the listing and the delete survives.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from harness.errors import AwsAccessError
from harness.log import Redactor
from harness.state.lockinfo import default_who, format_created
from harness.state.locks import DYNAMODB, ORPHANED, STALE, LockRow
from harness.state.targets import ClientSource, WritableClientSource
from harness.state.writes import LockChanged, delete_lock_item, delete_lockfile

log = logging.getLogger(__name__)

AUDIT_LOG_NAME = "lock-audit.jsonl"
REMOVED, CHANGED, SKIPPED, FAILED = "removed", "changed", "skipped", "failed"


def plan_cleanup(rows: Iterable[LockRow], *, instances: Collection[str] = (),
                 include_orphaned: bool = False) -> tuple[LockRow, ...]:
    """The locks a cleanup would remove: stale ones, plus orphans past their threshold if asked.

    `instances` limits the plan to those instance ids (orphans belong to none, so they drop out).
    """
    chosen = []
    for row in rows:
        if instances and row.instance not in instances:
            continue
        orphan_due = (include_orphaned and row.verdict == ORPHANED and row.age_s is not None
                      and row.age_s >= row.threshold_s)
        if row.verdict == STALE or orphan_due:
            chosen.append(row)
    return tuple(chosen)


@dataclass(frozen=True)
class CleanupOutcome:
    """What happened to one planned lock: `removed`, `changed` (re-acquired or released since it was
    read; left alone), `skipped` (never removable: malformed or held) or `failed` (an AWS error)."""

    row: LockRow
    result: str
    detail: str = ""


class AuditLog:
    """Append-only JSON lines, one per removed lock (who removed it, when, and the lock's info)."""

    def __init__(self, path: Path, redactor: Redactor | None = None) -> None:
        self.path = path
        self.redactor = redactor or Redactor()

    def record(self, row: LockRow, *, by: str, at: datetime) -> None:
        entry: dict[str, Any] = {
            "at": format_created(at), "by": by, "action": "remove", "instance": row.instance,
            "state_key": row.state_key, "lock_kind": row.lock_kind, "location": row.location,
            "verdict": row.verdict, "age_s": row.age_s, "threshold_s": row.threshold_s,
            "lock": row.info.as_dict() if row.info else row.info_raw,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(self.redactor.redact_obj(entry), sort_keys=True) + "\n")


def clean_locks(plan: Iterable[LockRow], clients: WritableClientSource, audit: AuditLog, *,
                by: str | None = None, now: datetime | None = None) -> tuple[CleanupOutcome, ...]:
    """Delete each planned lock conditionally; audit and log every removal at WARNING.

    This is the one write `locks clean --yes` exists for, so it opens the AWS layer's write
    permission itself, narrowed to the two conditional deletes. A lock that changed since it was
    read is reported as `changed` and left alone; an AWS error on one lock is `failed` and does not
    stop the others.
    """
    with clients.allow_writes("locks clean: remove abandoned Terraform locks",
                              operations={"dynamodb.DeleteItem", "s3.DeleteObject"}):
        return _clean(plan, clients, audit, by=by or default_who(), now=now)


def _clean(plan: Iterable[LockRow], clients: ClientSource, audit: AuditLog, *, by: str,
           now: datetime | None) -> tuple[CleanupOutcome, ...]:
    outcomes = []
    for row in plan:
        if not _removable(row):
            outcomes.append(CleanupOutcome(row, SKIPPED, f"never removed automatically ({row.verdict})"))
            continue
        try:
            _delete(row, clients)
        except LockChanged as exc:
            log.info("left alone %s: %s", row.location, exc)
            outcomes.append(CleanupOutcome(row, CHANGED, str(exc)))
            continue
        except (ClientError, BotoCoreError, AwsAccessError) as exc:  # budget spent: not removed, say so
            log.error("could not remove %s: %s", row.location, exc)
            outcomes.append(CleanupOutcome(row, FAILED, str(exc)))
            continue
        try:
            audit.record(row, by=by, at=now or datetime.now(UTC))
        except OSError as exc:  # the lock is gone already: say so loudly, keep going
            log.error("could not append to the audit log %s: %s (removed lock: %s)", audit.path, exc,
                      row.info_raw)
        log.warning("removed %s lock %s on %s (instance %s, operation %s by %s, created %s, age %ss)",
                    row.verdict, row.lock_id, row.location, row.instance or "none", row.operation,
                    row.who, row.created, row.age_s)
        outcomes.append(CleanupOutcome(row, REMOVED))
    return tuple(outcomes)


def _removable(row: LockRow) -> bool:
    """Checked again here, so rows that bypass `plan_cleanup` cannot remove a young or unreadable lock."""
    if row.verdict not in (STALE, ORPHANED) or row.info is None:
        return False
    if row.age_s is None or row.age_s < row.threshold_s:
        return False
    if row.lock_kind == DYNAMODB:
        return bool(row.table and row.item_id)
    return bool(row.bucket and row.object_key and row.etag)


def _delete(row: LockRow, clients: ClientSource) -> None:
    if row.lock_kind == DYNAMODB:
        delete_lock_item(clients.client("dynamodb", region=row.region), str(row.table), str(row.item_id),
                         row.info_raw)
    else:
        delete_lockfile(clients.client("s3", region=row.region), str(row.bucket), str(row.object_key),
                        row.info_raw, str(row.etag))
