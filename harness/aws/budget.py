"""`--api-budget N`: past N calls in this process, new calls are refused with `ApiBudgetExceeded`."""

from __future__ import annotations

import threading

from harness.errors import ApiBudgetExceeded


class ApiBudget:
    """A thread-safe call allowance. `limit=None` means unlimited.

    Retries of a call already admitted are not charged: the budget bounds the work a run starts, and
    cutting a call off between attempts would turn a throttled-but-fine read into an error.
    """

    def __init__(self, limit: int | None) -> None:
        if limit is not None and limit < 0:
            raise ValueError("the API budget cannot be negative")
        self.limit = limit
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
        raise ApiBudgetExceeded(
            f"API budget of {self.limit} calls is spent; {operation_name} in {region} was not called",
            where="api_budget",
            hint="raise --api-budget (or api_budget in stackharness.yaml) or narrow the run; "
                 "everything not checked is reported as an error")
