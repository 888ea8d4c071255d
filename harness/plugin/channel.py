"""The side channel between the xdist controller and its workers: small files in one run directory.

xdist's own channel carries test indices one way and reports the other way; the dependency
scheduler needs a little more, and keeps it out of xdist's internals:

* worker -> controller, once: `plan-<worker>.json`, the item plan (dependencies, priorities,
  groups) the worker computed from its collection; written before xdist announces the collection,
  so it is complete when the controller reads it.
* controller -> workers: `permit/<index>` for each gated item (one with dependencies or a capped
  group): empty to run, or a skip reason. The worker waits for it before the item's setup.
  `stop` holds the reason the run is stopping (`--maxfail`, `-x`, a dead worker): a gated item
  without a permit is then skipped instead of waiting.

Every file is written to a temporary name and renamed, so a reader sees all of it or nothing.
Workers are local processes (`-n`/`popen`), so they share the directory.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WORKERINPUT_KEY = "stackharness_channel"   # workerinput entry holding the run directory
POLL_FIRST, POLL_MAX = 0.0005, 0.02          # seconds between looks while waiting (doubling)


@dataclass(frozen=True)
class Channel:
    """One run directory shared by the controller and its workers."""

    root: Path

    @classmethod
    def create(cls) -> Channel:
        """A fresh, private run directory."""
        return cls(Path(tempfile.mkdtemp(prefix="stackharness-sched-")))

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    # -- worker -> controller ---------------------------------------------------------------------
    def write_plan(self, worker: str, plan: dict[str, Any]) -> None:
        self._write(self.root / f"plan-{worker}.json", json.dumps(plan, separators=(",", ":")))

    def read_plan(self, worker: str) -> dict[str, Any] | None:
        path = self.root / f"plan-{worker}.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    # -- controller -> workers --------------------------------------------------------------------
    def permit(self, index: int, skip_reason: str | None = None) -> None:
        """Let item `index` run (or be skipped with `skip_reason`)."""
        self._write(self.root / "permit" / str(index), skip_reason or "")

    def stop(self, reason: str) -> None:
        """Tell waiting workers that nothing more will be permitted."""
        if not (self.root / "stop").exists():
            self._write(self.root / "stop", reason)

    def poll_permit(self, index: int) -> tuple[bool, str] | None:
        """(True, "") to run item `index`, (False, reason) to skip it, None while undecided."""
        try:
            reason = (self.root / "permit" / str(index)).read_text(encoding="utf-8")
        except FileNotFoundError:
            pass
        else:
            return (not reason, reason)
        try:
            return False, f"not run: {(self.root / 'stop').read_text(encoding='utf-8')}"
        except FileNotFoundError:
            return None

    def wait_permit(self, index: int) -> tuple[bool, str]:
        """Block until item `index` may go (see `poll_permit`)."""
        delay = POLL_FIRST
        while (answer := self.poll_permit(index)) is None:
            time.sleep(delay)
            delay = min(delay * 2, POLL_MAX)
        return answer

    def _write(self, path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
