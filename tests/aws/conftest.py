"""Fixtures for the AWS access layer tests: a fake clock, contexts on the moto server, setup clients."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from harness.aws import AwsContext
from harness.config import EnvironmentProfile, HarnessConfig, RetrySettings
from harness.log import Redactor


class FakeClock:
    """Time that moves only when someone sleeps (or the test advances it); records every sleep.

    Wall-clock time starts at the real now, so credentials moto issues expire where they should.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.elapsed = 0.0
        self.sleeps: list[float] = []
        self._start = datetime.now(UTC)

    def monotonic(self) -> float:
        with self._lock:
            return self.elapsed

    def now(self) -> datetime:
        with self._lock:
            return self._start + timedelta(seconds=self.elapsed)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.elapsed += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.elapsed += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def fast_retry(max_attempts: int = 8) -> dict[str, EnvironmentProfile]:
    """A default profile with quick backoff (real sleeps stay short if a test uses the real clock)."""
    retry = RetrySettings(base=0.01, cap=0.05, max_attempts=max_attempts)
    return {"default": EnvironmentProfile(retry=retry)}


@pytest.fixture
def make_aws(moto: str, clock: FakeClock) -> Callable[..., AwsContext]:
    """Build an `AwsContext` on the moto server: `make_aws(api_budget=3, read_only=False, ...)`.

    Keyword arguments that are config fields go into the config; the rest go to `from_config`.
    """

    def make(*, read_only: bool = True, redactor: Redactor | None = None, jitter: Any = None,
             **fields: Any) -> AwsContext:
        fields.setdefault("profiles", fast_retry())
        config = HarnessConfig(aws_endpoint_url=moto, **fields)
        return AwsContext.from_config(config, redactor=redactor or Redactor(), read_only=read_only,
                                      clock=clock, jitter=jitter)

    return make


@pytest.fixture
def moto_iam_auth(moto: str):
    """Turn on moto's IAM authentication for the test (process-wide in moto), off again afterwards."""

    def enable() -> None:
        _reset_auth(moto, "0")

    try:
        yield enable
    finally:
        _reset_auth(moto, "inf")


def _reset_auth(endpoint: str, count: str) -> None:
    import urllib.request

    request = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=count.encode(), method="POST",
                                     headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()

