"""`--api-budget N`: past N calls in this process, new calls are refused with `ApiBudgetExceeded`."""

from __future__ import annotations

import threading

from harness.errors import ApiBudgetExceeded


class ApiBudget:
    """A thread-safe call allowance. `limit=None` means unlimited.

    Retries of a call already admitted are not charged: the budget bounds the work a run starts, and
    cutting a call off between attempts would turn a throttled-but-fine read into an error.
    """

    def __init__(self, limit: int | None, *, run_limit: int | None = None) -> None:
        if limit is not None and limit < 0:
            raise ValueError("the API budget cannot be negative")
        self.limit = limit
        self.run_limit = run_limit if run_limit is not None else limit   # the whole run's N (for messages)
        self._lock = threading.Lock()
        self.used = 0
        self.refused = 0

    @property
    def remaining(self) -> int | None:
        """Calls still allowed (None: unlimited)."""
        return None if self.limit is None else max(0, self.limit - self.used)

    def charge(self, operation_name: str, region: str) -> None:
        """Admit one call or raise `ApiBudgetExceeded` naming the call that was not made."""
        with self._lock:
            if self.limit is None or self.used < self.limit:
                self.used += 1
                return
            self.refused += 1
        share = "" if self.run_limit == self.limit else f" (this worker's share: {self.limit})"
        raise ApiBudgetExceeded(
            f"API budget of {self.run_limit} calls{share} is spent; {operation_name} in {region} was not called",
            where="api_budget",
            hint="raise --api-budget (or api_budget in stackharness.yaml) or narrow the run; "
                 "everything not checked is reported as an error")


def worker_share(limit: int | None, index: int, workers: int) -> int | None:
    """Worker `index` of `workers`' part of a run budget: N//W, plus one for the first N%W workers.

    The parts add up to N. A replacement worker (index >= workers, started after a crash) gets 0: the
    calls its predecessor made are unknown, so anything more could exceed N.
    """
    if limit is None:
        return None
    if index >= workers:
        return 0
    return limit // workers + (1 if index < limit % workers else 0)
