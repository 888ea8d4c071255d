"""The rotation audit trail: one redacted JSON line per AWS write, appended to `<report_dir>/rotation-audit.jsonl`."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.credentials.model import iso, now_utc
from harness.log import Redactor

AUDIT_FILE = "rotation-audit.jsonl"


class AuditLog:
    """Appends entries (time first) to a JSONL file; every entry goes through the redactor."""

    def __init__(self, path: Path, redactor: Redactor) -> None:
        self.path = path
        self._redactor = redactor
        self._lock = threading.Lock()

    def append(self, entry: Mapping[str, Any]) -> None:
        """Write one entry as a line (the file and its folder are created on first use)."""
        line = json.dumps(self._redactor.redact_obj({"at": iso(now_utc()), **entry}), default=str)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
