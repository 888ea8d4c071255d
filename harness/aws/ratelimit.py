"""Client-side token buckets, one per (account, region, service), that back off when AWS throttles.

Adaptive, like the AWS SDKs' adaptive retry mode: a throttling response cuts the allowed rate to 70 %
(at most once per second, so one burst of throttles counts once), and each success raises it by 5 %
up to its ceiling. A bucket throttled at 40 calls/s drops to 28/s and needs about 8 clean calls to
get back. Without a configured `rate_limit` a bucket starts unlimited; the first throttle sets its
rate to 70 % of the rate observed over the last calls, and it is unlimited again once it has
recovered to that observed rate.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Hashable

from harness.aws.clock import Clock

DECREASE = 0.7        # factor applied to the rate on a throttling response
RECOVERY = 1.05       # factor applied on each success, up to the ceiling
MIN_RATE = 0.5        # calls per second; never slower than this
COOLDOWN = 1.0        # seconds after a decrease during which further throttles do not decrease
_WINDOW = 20          # recent calls used to estimate the observed rate


class TokenBucket:
    """A token bucket whose refill rate adapts to throttling. Thread-safe.

    `acquire()` reserves a token under the lock and sleeps outside it, so waiting callers queue in
    order without holding the lock.
    """

    def __init__(self, rate: float | None, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._ceiling = rate                  # the configured rate (None: unlimited)
        self._rate = rate                     # the current rate (None: unlimited)
        self._tokens = self._capacity(rate)
        self._updated = clock.monotonic()
        self._recent: deque[float] = deque(maxlen=_WINDOW)
        self._recover_to: float | None = None  # unlimited again at this rate (when no ceiling)
        self._last_decrease: float | None = None
        self.waited = 0.0                     # total seconds callers waited here (for diagnostics)

    @staticmethod
    def _capacity(rate: float | None) -> float:
        return max(1.0, rate or 1.0)

    @property
    def rate(self) -> float | None:
        """The current allowed rate in calls per second (None: unlimited)."""
        return self._rate

    def acquire(self) -> float:
        """Take one token, waiting if the bucket is empty. Returns the seconds waited."""
        with self._lock:
            now = self._clock.monotonic()
            self._recent.append(now)
            if self._rate is None:
                return 0.0
            self._refill(now)
            self._tokens -= 1.0
            wait = -self._tokens / self._rate if self._tokens < 0 else 0.0
            self.waited += wait
        if wait > 0:
            self._clock.sleep(wait)
        return wait

    def on_throttle(self) -> None:
        """AWS throttled a call: cut the rate (starting from the observed rate when unlimited)."""
        with self._lock:
            now = self._clock.monotonic()
            if self._last_decrease is not None and now - self._last_decrease < COOLDOWN:
                return
            self._last_decrease = now
            if self._rate is None:
                observed = self._observed_rate()
                self._recover_to = observed
                self._rate = max(MIN_RATE, observed * DECREASE)
                self._tokens = min(self._tokens, self._capacity(self._rate))
                self._updated = now
            else:
                self._refill(now)
                self._rate = max(MIN_RATE, self._rate * DECREASE)

    def on_success(self) -> None:
        """A call went through: let the rate creep back up towards its ceiling."""
        with self._lock:
            if self._rate is None:
                return
            self._refill(self._clock.monotonic())
            target = self._ceiling if self._ceiling is not None else self._recover_to
            raised = self._rate * RECOVERY
            if target is not None and raised >= target:
                self._rate = self._ceiling  # back to the configured rate, or unlimited
                self._recover_to = None
            else:
                self._rate = raised

    def _refill(self, now: float) -> None:
        if self._rate is not None:
            self._tokens = min(self._capacity(self._rate),
                               self._tokens + (now - self._updated) * self._rate)
        self._updated = now

    def _observed_rate(self) -> float:
        if len(self._recent) < 2:
            return MIN_RATE / DECREASE
        span = self._recent[-1] - self._recent[0]
        if span <= 0:
            return float(len(self._recent))  # a burst within one tick: assume one second
        return (len(self._recent) - 1) / span


class RateLimiters:
    """The run's token buckets, created on first use per key."""

    def __init__(self, clock: Clock, default_rate: float | None = None) -> None:
        self._clock = clock
        self._default_rate = default_rate
        self._lock = threading.Lock()
        self._buckets: dict[Hashable, TokenBucket] = {}

    def bucket(self, key: Hashable, rate: float | None = None) -> TokenBucket:
        """The bucket for `key` (e.g. (account, region, service)); `rate` applies when it is created."""
        with self._lock:
            if key not in self._buckets:
                self._buckets[key] = TokenBucket(rate if rate is not None else self._default_rate,
                                                 self._clock)
            return self._buckets[key]
