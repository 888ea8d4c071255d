"""Which AWS failures are worth another attempt, and how long to wait before it.

Exponential backoff with full jitter: before retry n (n = 1, 2, ...) wait a uniformly random time in
`[0, min(cap, base * 2**(n-1))]`. With base 0.2 s and cap 20 s the ceilings are 0.2, 0.4, 0.8, ... 20 s.
Full jitter spreads the retries of many throttled callers so they do not come back in lockstep.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, HTTPClientError, SSLError
from botocore.exceptions import ConnectionError as BotoConnectionError

from harness.config import RetrySettings

# Error codes AWS uses to say "slow down"; never retried blindly, they also slow the rate limiter.
THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "RequestThrottled", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown",
    "ProvisionedThroughputExceededException", "BandwidthLimitExceeded", "EC2ThrottledException",
    "PriorRequestNotComplete",
})
# Codes of server-side hiccups that a later attempt usually gets past.
TRANSIENT_CODES = frozenset({
    "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure",
    "InternalServerError", "ServiceUnavailable", "ServiceUnavailableException", "IDPCommunicationError",
})
THROTTLING_STATUS = 429


@dataclass(frozen=True)
class Verdict:
    """What an attempt's outcome means for retrying."""

    retryable: bool
    throttled: bool = False
    reason: str = ""


SUCCESS = Verdict(retryable=False, reason="ok")


def classify(status: int | None, code: str | None, exception: BaseException | None = None) -> Verdict:
    """Judge one attempt: by its exception, else by its HTTP status and AWS error code."""
    if exception is not None:
        if isinstance(exception, ClientError):
            error = exception.response.get("Error", {})
            meta = exception.response.get("ResponseMetadata", {})
            return classify(meta.get("HTTPStatusCode"), error.get("Code"))
        if isinstance(exception, SSLError):
            return Verdict(retryable=False, reason=type(exception).__name__)
        if isinstance(exception, HTTPClientError | BotoConnectionError):
            return Verdict(retryable=True, reason=type(exception).__name__)
        return Verdict(retryable=False, reason=type(exception).__name__)
    if code in THROTTLING_CODES or status == THROTTLING_STATUS:
        return Verdict(retryable=True, throttled=True, reason=code or str(status))
    if code in TRANSIENT_CODES or (status is not None and status >= 500):
        return Verdict(retryable=True, reason=code or str(status))
    if status is not None and status >= 300:
        return Verdict(retryable=False, reason=code or str(status))
    return SUCCESS


def classify_response(response: tuple[Any, dict] | None, exception: BaseException | None) -> Verdict:
    """Judge botocore's `(http_response, parsed)` pair or the exception an attempt raised."""
    if exception is not None or response is None:
        return classify(None, None, exception)
    http, parsed = response
    return classify(http.status_code, parsed.get("Error", {}).get("Code"))


Jitter = Callable[[float], float]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter for throttling and transient errors; never for client errors.

    `jitter(ceiling)` picks the wait in `[0, ceiling]`; the default is uniform. Tests pass
    `lambda ceiling: ceiling` to see the exact exponential ceilings.
    """

    base: float = RetrySettings.base
    cap: float = RetrySettings.cap
    max_attempts: int = RetrySettings.max_attempts
    jitter: Jitter | None = None

    @classmethod
    def from_settings(cls, settings: RetrySettings, jitter: Jitter | None = None) -> RetryPolicy:
        """The policy of an environment profile's `retry:` settings."""
        return cls(base=settings.base, cap=settings.cap, max_attempts=max(1, settings.max_attempts),
                   jitter=jitter)

    def ceiling(self, retry_number: int) -> float:
        """The longest wait before retry `retry_number` (1 for the first retry)."""
        exponent = min(retry_number - 1, 64)  # 2**64 * base exceeds any sane cap; avoids overflow
        return min(self.cap, self.base * 2 ** exponent)

    def delay(self, retry_number: int) -> float:
        """The wait before retry `retry_number`: uniform in `[0, ceiling]` (full jitter)."""
        ceiling = self.ceiling(retry_number)
        if self.jitter is not None:
            return min(ceiling, max(0.0, self.jitter(ceiling)))
        return random.uniform(0.0, ceiling)

    def should_retry(self, verdict: Verdict, attempts_made: int) -> bool:
        """True when the attempt failed for a retryable reason and attempts are left."""
        return verdict.retryable and attempts_made < self.max_attempts
