"""Terraform's LockInfo JSON: what a lock item's `Info` attribute and a `.tflock` object hold.

    {"ID": "fe1b1720-…", "Operation": "OperationTypeApply", "Info": "", "Who": "ci@runner-7",
     "Version": "1.11.4", "Created": "2026-11-26T01:59:16.139373836Z", "Path": "bucket/key"}
"""

from __future__ import annotations

import getpass
import json
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from harness.errors import StateError

_FIELDS = ("ID", "Operation", "Info", "Who", "Version", "Created", "Path")


class LockInfoError(StateError):
    """A lock whose content is not Terraform LockInfo JSON (reported as `malformed`, never cleaned)."""


@dataclass(frozen=True)
class LockInfo:
    """One parsed LockInfo. `created` is None when `Created` is missing or not an RFC 3339 time."""

    id: str
    operation: str = ""
    info: str = ""
    who: str = ""
    version: str = ""
    created: datetime | None = None
    created_text: str = ""
    path: str = ""

    def to_json(self) -> str:
        """The JSON Terraform writes (same field names and order)."""
        return json.dumps({"ID": self.id, "Operation": self.operation, "Info": self.info,
                           "Who": self.who, "Version": self.version, "Created": self.created_text,
                           "Path": self.path}, separators=(",", ":"))

    def as_dict(self) -> dict[str, str]:
        return json.loads(self.to_json())


def parse_created(text: Any) -> datetime | None:
    """An RFC 3339 time with a zone (Go's nanoseconds are cut to microseconds) in UTC, else None."""
    if not isinstance(text, str) or "T" not in text.upper():
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.astimezone(UTC) if value.tzinfo is not None else None


def format_created(moment: datetime) -> str:
    """RFC 3339 UTC with a `Z`, as Terraform writes `Created`."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_lock_info(text: str | bytes, *, where: str = "") -> LockInfo:
    """Parse LockInfo JSON; `LockInfoError` when it is not a JSON object with a string `ID`.

    Terraform decodes the JSON into a struct of strings, so a field of another type makes the lock
    unreadable for Terraform too. A bad `Created` is not malformed: the age comes from elsewhere.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise LockInfoError("lock info is not UTF-8 text", where=where) from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LockInfoError(f"lock info is not JSON ({exc.msg})", where=where) from None
    if not isinstance(raw, dict):
        raise LockInfoError(f"lock info is a JSON {type(raw).__name__}, not an object", where=where)
    wrong = [name for name in _FIELDS if name in raw and not isinstance(raw[name], str)]
    if wrong:
        raise LockInfoError(f"lock info field(s) {', '.join(wrong)} are not strings", where=where)
    if not raw.get("ID"):
        raise LockInfoError("lock info has no ID", where=where)
    created_text = raw.get("Created", "")
    return LockInfo(id=raw["ID"], operation=raw.get("Operation", ""), info=raw.get("Info", ""),
                    who=raw.get("Who", ""), version=raw.get("Version", ""),
                    created=parse_created(created_text), created_text=created_text,
                    path=raw.get("Path", ""))


def default_who() -> str:
    """`user@host`, as Terraform fills `Who`."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def new_lock_info(*, operation: str, path: str, who: str | None = None, info: str = "",
                  version: str = "", now: datetime | None = None) -> LockInfo:
    """A fresh LockInfo with a random ID, created now."""
    created = now or datetime.now(UTC)
    return LockInfo(id=str(uuid.uuid4()), operation=operation, info=info, who=who or default_who(),
                    version=version, created=created.astimezone(UTC),
                    created_text=format_created(created), path=path)
