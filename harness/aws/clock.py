"""Time as the AWS layer sees it: one object, so tests can swap in a fake clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """What backoff, rate limiting, latency and credential refresh need from time."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary start, never going back."""

    def now(self) -> datetime:
        """The current wall-clock time, timezone-aware (UTC)."""

    def sleep(self, seconds: float) -> None:
        """Wait `seconds`."""


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)
