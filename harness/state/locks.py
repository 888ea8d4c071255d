"""Find every Terraform lock under a repository's S3 backends and judge it: held, stale, orphaned, malformed.

Both lock kinds are read: DynamoDB lock items (the whole lock table is scanned; `-md5` digest items
share the table but are not locks, nor are items of buckets the repository does not use) and S3
native lock files (`<state key>.tflock`, listed across the state bucket). Age comes from LockInfo
`Created`; only for a lock file with an unreadable `Created` does the object's LastModified stand
in. A lock is `stale` once its age reaches the threshold of its instance's environment profile
(`lock_stale_after`) or the `older_than` override.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from harness.aws.answers import answer_codes
from harness.config import HarnessConfig
from harness.errors import AwsAccessError
from harness.stacks.model import ComponentInstance
from harness.state.layout import (
    is_digest_item_id,
    is_lockfile_key,
    split_lock_item_id,
    state_key_of_lockfile,
)
from harness.state.lockinfo import LockInfo, LockInfoError, parse_lock_info
from harness.state.targets import ClientSource, StateTarget, by_state_object, state_targets

log = logging.getLogger(__name__)

HELD, STALE, ORPHANED, MALFORMED = "held", "stale", "orphaned", "malformed"
DYNAMODB, S3 = "dynamodb", "s3"


@dataclass(frozen=True)
class LockRow:
    """One lock found in a backend. `to_dict()` gives the published row; the rest locates it for cleanup.

    `info_raw` is the exact `Info` string (DynamoDB) or object body (S3) that was read, and `etag`
    the S3 ETag of that body: a cleanup deletes only if the lock still holds exactly these.
    """

    instance: str | None
    state_key: str
    lock_kind: str
    lock_id: str | None
    operation: str | None
    who: str | None
    created: str | None
    age_s: float | None
    verdict: str
    threshold_s: float
    bucket: str | None
    region: str
    location: str                          # table + LockID, or s3://bucket/key.tflock
    table: str | None = None
    item_id: str | None = None             # DynamoDB LockID
    object_key: str | None = None          # S3 key of the .tflock
    etag: str | None = None
    info_raw: str = field(default="", repr=False)
    info: LockInfo | None = field(default=None, repr=False)
    problem: str | None = None             # why a lock is malformed

    def to_dict(self) -> dict[str, Any]:
        """The row exactly as `stackharness locks list --format json` prints it."""
        return {"instance": self.instance, "state_key": self.state_key, "lock_kind": self.lock_kind,
                "lock_id": self.lock_id, "operation": self.operation, "who": self.who,
                "created": self.created, "age_s": self.age_s, "verdict": self.verdict}


@dataclass(frozen=True)
class BackendProblem:
    """A lock table or bucket that could not be read: its locks are unknown, which is not "none"."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass(frozen=True)
class LockScan:
    rows: tuple[LockRow, ...]
    problems: tuple[BackendProblem, ...] = ()


@dataclass(frozen=True)
class FoundLock:
    """A raw lock as read from a backend, before it is judged."""

    kind: str
    region: str
    bucket: str | None
    state_key: str
    location: str
    body: str
    problem: str | None = None
    table: str | None = None
    item_id: str | None = None
    object_key: str | None = None
    etag: str | None = None
    last_modified: datetime | None = None


def discover_locks(instances: Iterable[ComponentInstance], clients: ClientSource, *,
                   config: HarnessConfig, older_than: float | None = None,
                   as_of: datetime | None = None) -> LockScan:
    """Every lock in the lock tables and state buckets the instances use, judged at `as_of` (default now).

    `older_than` (seconds) overrides every profile's `lock_stale_after`.
    """
    targets = state_targets(instances, config.default_region)
    as_of = as_of or datetime.now(UTC)
    index = by_state_object(targets)
    problems: list[BackendProblem] = []
    found: list[FoundLock] = []
    buckets = {t.bucket for t in targets}
    for region, table in sorted({(t.region, t.lock_table) for t in targets if t.lock_table}):
        items = _guarded(_dynamodb_locks(clients.client("dynamodb", region=region), region, table),
                         f"dynamodb table {table} ({region})", problems)
        # A shared table also holds other repositories' locks: only this repo's buckets are ours.
        found.extend(lock for lock in items if lock.bucket in buckets)
    for region, bucket in sorted({(t.region, t.bucket) for t in targets}):
        found.extend(_guarded(_lockfiles(clients.client("s3", region=region), region, bucket),
                              f"s3://{bucket} ({region})", problems))
    default_threshold = older_than if older_than is not None else \
        config.profile_for(None).lock_stale_after
    rows = []
    for lock in found:
        target = index.get((lock.bucket, lock.state_key)) if lock.bucket else None
        threshold = older_than if older_than is not None else (
            config.profile_for(target.environment_type).lock_stale_after if target else default_threshold)
        rows.append(judge(lock, target, threshold, as_of))
    rows.sort(key=lambda r: (r.instance or "~", r.state_key, r.lock_kind, r.location))
    return LockScan(tuple(rows), tuple(problems))


def judge(lock: FoundLock, target: StateTarget | None, threshold: float, as_of: datetime) -> LockRow:
    """Parse a found lock and give it its verdict (malformed > orphaned > stale/held)."""
    info: LockInfo | None = None
    problem = lock.problem
    if problem is None:
        try:
            info = parse_lock_info(lock.body, where=lock.location)
        except LockInfoError as exc:
            problem = exc.what
    created = info.created if info else None
    if info is not None and created is None and lock.last_modified is not None:
        created = lock.last_modified.astimezone(UTC)
    if info is not None and created is None:
        problem = f"Created {info.created_text!r} is not an RFC 3339 time and there is no other age"
    age = round((as_of - created).total_seconds(), 1) if created is not None else None
    if problem is not None:
        verdict = MALFORMED
    elif target is None:
        verdict = ORPHANED
    else:
        verdict = STALE if age is not None and age >= threshold else HELD
    # A lock whose JSON is fine but whose age is unknown still shows its ID (for a manual force-unlock).
    return LockRow(
        instance=target.instance if target else None, state_key=lock.state_key, lock_kind=lock.kind,
        lock_id=info.id if info else None, operation=info.operation if info else None,
        who=info.who if info else None,
        created=created.isoformat().replace("+00:00", "Z") if created else None,
        age_s=age, verdict=verdict, threshold_s=threshold, bucket=lock.bucket, region=lock.region,
        location=lock.location, table=lock.table, item_id=lock.item_id, object_key=lock.object_key,
        etag=lock.etag, info_raw=lock.body, info=info if problem is None else None, problem=problem,
    )


def _guarded(found: Iterator[FoundLock], location: str, problems: list[BackendProblem]) -> list[FoundLock]:
    """Read a backend; an AWS error, or a call refused (budget spent, role), becomes a problem: the
    backend's other locks are unknown. Locks read before the error are kept."""
    locks: list[FoundLock] = []
    try:
        for lock in found:
            locks.append(lock)
        return locks
    except ClientError as exc:
        error = exc.response.get("Error", {})
        message = f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
    except BotoCoreError as exc:
        message = str(exc)
    except AwsAccessError as exc:
        message = f"not fully read: {exc.what}"
    log.error("cannot read locks in %s: %s", location, message)
    problems.append(BackendProblem(location, message))
    return locks


def _dynamodb_locks(dynamodb: Any, region: str, table: str) -> Iterator[FoundLock]:
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for item in page.get("Items", []):
            item_id = item.get("LockID", {}).get("S")
            if item_id is None or is_digest_item_id(item_id):
                continue
            bucket, state_key = split_lock_item_id(item_id)
            info = item.get("Info")
            problem = None
            if info is None:
                problem = "lock item has no Info attribute"
            elif "S" not in info:
                problem = "lock item's Info is not a string attribute"
            yield FoundLock(kind=DYNAMODB, region=region, bucket=bucket, state_key=state_key,
                         location=f"dynamodb://{table}/{item_id}", body=(info or {}).get("S", ""),
                         problem=problem, table=table, item_id=item_id)


def _lockfiles(s3: Any, region: str, bucket: str) -> Iterator[FoundLock]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", []):
            key = entry["Key"]
            if not is_lockfile_key(key):
                continue
            try:
                with answer_codes(("NoSuchKey", "404")):
                    response = s3.get_object(Bucket=bucket, Key=key)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    continue  # released between the listing and the read
                raise
            raw = response["Body"].read()
            try:
                body, problem = raw.decode("utf-8"), None
            except UnicodeDecodeError:
                body, problem = raw.decode("utf-8", "replace"), "lock file is not UTF-8 text"
            # The ETag of this very read, so a conditional delete matches exactly this body.
            yield FoundLock(kind=S3, region=region, bucket=bucket, state_key=state_key_of_lockfile(key),
                         location=f"s3://{bucket}/{key}", body=body, problem=problem, object_key=key,
                         etag=response.get("ETag"), last_modified=response.get("LastModified"))
