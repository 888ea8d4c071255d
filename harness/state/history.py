"""Serial and lineage across the versions bucket versioning keeps of one state object.

Terraform raises `serial` on every write of the same lineage; `lineage` is fixed when a state is
created. So between consecutive versions the lineage must not change and the serial must not go
down: a lower serial means an older state was put back (a rollback), a new lineage means the state
was replaced by a different one.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError


@dataclass(frozen=True)
class StateVersion:
    """The header of one kept version; `serial`/`lineage` are None when that version is unreadable."""

    version_id: str
    last_modified: datetime | None
    serial: int | None
    lineage: str | None

    @property
    def label(self) -> str:
        when = self.last_modified.isoformat(timespec="seconds") if self.last_modified else "?"
        return f"version {self.version_id} ({when})"


@dataclass(frozen=True)
class History:
    versioning: str                        # "Enabled", "Suspended" or "" (never enabled)
    versions: tuple[StateVersion, ...]     # oldest first
    truncated: bool = False                # more versions exist than were read


def read_history(s3: Any, bucket: str, key: str, *, max_versions: int = 50) -> History:
    """The last `max_versions` versions of `s3://bucket/key`, oldest first (delete markers left out)."""
    versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status", "")
    listed: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
        listed.extend(v for v in page.get("Versions", []) if v["Key"] == key)
    # S3 lists a key's versions newest first; that order survives equal LastModified times.
    newest_first = listed[:max_versions]
    versions = [_header(s3, bucket, key, v) for v in reversed(newest_first)]
    return History(versioning, tuple(v for v in versions if v is not None), len(listed) > max_versions)


# Terraform writes the header (version, terraform_version, serial, lineage) before outputs and
# resources, so the first few KiB of each version are enough; a full read is the fallback.
_HEAD_BYTES = 4096
_SERIAL = re.compile(rb'"serial"\s*:\s*(\d+)')
_LINEAGE = re.compile(rb'"lineage"\s*:\s*"([^"\\]*)"')
_BODY_START = re.compile(rb'"(?:outputs|resources|check_results)"\s*:')


def _header(s3: Any, bucket: str, key: str, entry: dict[str, Any]) -> StateVersion | None:
    version_id = entry.get("VersionId") or "null"
    extra = {"VersionId": version_id} if version_id != "null" else {}
    try:
        head = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{_HEAD_BYTES - 1}",
                             **extra)["Body"].read()
        fields = _header_fields(head)
        if fields is None:
            whole = len(head) < _HEAD_BYTES or int(entry.get("Size") or 0) <= len(head)
            body = head if whole else s3.get_object(Bucket=bucket, Key=key, **extra)["Body"].read()
            fields = _full_header(body)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("NoSuchKey", "NoSuchVersion", "404"):
            return None  # removed since the listing
        if code != "InvalidRange":  # an empty object has no byte range: unreadable, like garbage
            raise
        fields = (None, None)
    return StateVersion(version_id, entry.get("LastModified"), *fields)


def _header_fields(head: bytes) -> tuple[int, str] | None:
    """Serial and lineage when both appear before outputs/resources (Terraform's order), else None."""
    end = _BODY_START.search(head)
    if end is None or not head.lstrip().startswith(b"{"):
        return None
    head = head[: end.start()]
    serial, lineage = _SERIAL.search(head), _LINEAGE.search(head)
    if serial and lineage:
        return int(serial.group(1)), lineage.group(1).decode("utf-8", "replace")
    return None


def _full_header(body: bytes) -> tuple[int | None, str | None]:
    try:
        raw = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, None
    if isinstance(raw, dict) and isinstance(raw.get("serial"), int) and raw.get("lineage"):
        return raw["serial"], str(raw["lineage"])
    return None, None


def serial_and_lineage(history: History) -> tuple[tuple[str, str], tuple[str, str]]:
    """`((serial status, detail), (lineage status, detail))` for a history (statuses ok/warn/fail)."""
    if history.versioning != "Enabled":
        note = ("bucket versioning is off: a rollback or replaced state cannot be detected; "
                "enable versioning on the state bucket")
        return ("warn", note), ("warn", note)
    readable = [v for v in history.versions if v.serial is not None]
    skipped = len(history.versions) - len(readable)
    suffix = (f"; {skipped} unreadable version(s) skipped" if skipped else "") + \
             ("; older versions not read" if history.truncated else "")
    decreases, changes = [], []
    for older, newer in itertools.pairwise(readable):
        if newer.lineage != older.lineage:
            changes.append(f"lineage {older.lineage} → {newer.lineage} at {newer.label}")
        elif newer.serial is not None and older.serial is not None and newer.serial < older.serial:
            decreases.append(f"serial {older.serial} → {newer.serial} at {newer.label}")
    count = f"{len(readable)} version(s) compared"
    serial = ("fail", "; ".join(decreases) + " (a rollback)" + suffix) if decreases else \
             ("ok", f"{count}, serial never decreases" + suffix)
    lineage = ("fail", "; ".join(changes) + " (the state was replaced)" + suffix) if changes else \
              ("ok", f"{count}, one lineage" + suffix)
    return serial, lineage
