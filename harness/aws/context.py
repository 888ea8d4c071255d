"""`AwsContext`: the one entry point the pytest plugin and the CLI use for AWS access.

    aws = AwsContext.from_config(config, redactor=redactor)            # read-only (drift, checks)
    s3 = aws.client("s3", region="eu-west-1")                         # pooled, guarded, metered
    buckets = aws.listing(s3, "ListBuckets", "Buckets")               # shared by concurrent callers
    with aws.pool.allow_lock_writes("tf-locks"): ...                  # the state_lock exception
    summary = aws.meter.summary()                                     # -> drift.json summary.api_calls

Commands that exist to write build theirs with `read_only=False`: every write is still logged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.aws.batching import operation_name, paginate
from harness.aws.budget import ApiBudget, worker_share
from harness.aws.clock import Clock, SystemClock
from harness.aws.credentials import ROLE_SESSION_NAME
from harness.aws.faults import FaultInjector, FaultSpec
from harness.aws.guard import ReadOnlyGuard
from harness.aws.hooks import CallHooks
from harness.aws.meter import ApiMeter
from harness.aws.ratelimit import RateLimiters
from harness.aws.retry import Jitter
from harness.aws.session import SessionPool
from harness.aws.singleflight import SingleFlight
from harness.config import HarnessConfig
from harness.log import Redactor

if TYPE_CHECKING:
    from harness.stacks.model import ComponentInstance


@dataclass(frozen=True)
class AwsContext:
    """Everything of the run's AWS access, built once per process (per xdist worker)."""

    config: HarnessConfig
    pool: SessionPool
    meter: ApiMeter
    budget: ApiBudget
    guard: ReadOnlyGuard
    faults: FaultSpec | None
    shared: SingleFlight
    worker_id: str | None = None

    @classmethod
    def from_config(cls, config: HarnessConfig, *, redactor: Redactor, read_only: bool = True,
                    worker_id: str | None = None, worker_slot: tuple[int, int] | None = None,
                    clock: Clock | None = None, jitter: Jitter | None = None) -> AwsContext:
        """Build the pool, meter, budget (`api_budget`), guard and faults (`inject_aws_faults`).

        The budget applies per process; `worker_slot=(k, W)` (xdist worker k of W) gives this process
        its share of `api_budget` (`worker_share`), so the workers together never exceed it. Fault decisions
        depend only on the seed and the call, so every worker injects the same faults into the same
        calls (see `harness.aws.faults`). `clock` and `jitter` are for tests (fake time, exact
        backoff). Raises `ConfigError` for a bad fault spec or an undefined `--profile`.
        """
        clock = clock or SystemClock()
        faults = FaultSpec.parse(config.inject_aws_faults)
        limit = worker_share(config.api_budget, *worker_slot) if worker_slot else config.api_budget
        meter, budget = ApiMeter(), ApiBudget(limit, run_limit=config.api_budget)
        guard = ReadOnlyGuard(redactor, read_only=read_only)
        run_profile = config.profile_for(None)
        hooks = CallHooks(guard=guard, meter=meter, budget=budget, clock=clock,
                          limiters=RateLimiters(clock, run_profile.rate_limit),
                          faults=FaultInjector(faults) if faults else None, jitter=jitter)
        # The worker id in the role session name tells CloudTrail readers which worker called.
        session_name = f"{ROLE_SESSION_NAME}-{worker_id}" if worker_id else ROLE_SESSION_NAME
        pool = SessionPool(config, hooks=hooks, redactor=redactor, clock=clock,
                           role_session_name=session_name)
        return cls(config, pool, meter, budget, guard, faults, SingleFlight(), worker_id)

    # -- clients ---------------------------------------------------------------------------------------
    def client(self, service: str, *, region: str | None = None, account_id: str | None = None,
               role_arn: str | None = None) -> Any:
        """A pooled client (see `SessionPool.client`)."""
        return self.pool.client(service, region=region, account_id=account_id, role_arn=role_arn)

    def instance_client(self, instance: ComponentInstance, service: str) -> Any:
        """A client for an instance's resources (its region, account, role)."""
        return self.pool.instance_client(instance, service)

    def backend_client(self, instance: ComponentInstance, service: str) -> Any:
        """A client for an instance's Terraform state (the backend's region and role)."""
        return self.pool.backend_client(instance, service)

    # -- shared reads ----------------------------------------------------------------------------------
    def listing(self, client: Any, operation: str, result_key: str, **kwargs: Any) -> list[Any]:
        """`paginate(...)` once per run for the same (account, region, service, operation, args).

        Concurrent callers wait for the first; later ones get its result. Treat it as read-only.
        """
        ident = self.pool.identity(client)
        key = (ident.account, ident.region, ident.service, operation_name(client, operation), result_key,
               json.dumps(kwargs, sort_keys=True, default=str))
        return list(self.shared.do(key, lambda: paginate(client, operation, result_key, **kwargs)))

    # -- results ---------------------------------------------------------------------------------------
    def api_calls(self) -> dict[str, Any]:
        """The `summary.api_calls` of this process's calls."""
        return self.meter.summary()
