"""The botocore event hooks that put every call of every pooled client through the access layer.

Per call, in botocore's own order:

- `before-parameter-build` — read-only guard, then the API budget (a refused call never leaves
  the process and costs nothing), then the call's bookkeeping is put in its request context;
- `request-created` (every attempt) — rate-limiter token, injected latency, fault decision;
- `before-send` (every attempt) — an injected fault answers instead of the network;
- `needs-retry` (every attempt) — our `RetryPolicy` decides; a throttle slows the rate limiter;
  the backoff wait happens here through the injectable clock and botocore is told to wait 0 s;
- `after-call` / `after-call-error` — the meter counts the call with its outcome and latency (an error
  code the caller declared an answer with `answer_codes` counts as `ok`).

botocore's own retries are off (`total_max_attempts=1`, see `BOTO_CONFIG`), so one policy does
all retrying and the two never multiply. Nothing here needs callers to do anything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from harness.aws.answers import is_answer
from harness.aws.budget import ApiBudget
from harness.aws.clock import Clock
from harness.aws.faults import FaultInjector, call_fingerprint, fault_error, fault_response, supports
from harness.aws.guard import ReadOnlyGuard
from harness.aws.meter import ApiMeter, CallKey, outcome_of
from harness.aws.ratelimit import RateLimiters, TokenBucket
from harness.aws.retry import Jitter, RetryPolicy, classify_response
from harness.config import RetrySettings

log = logging.getLogger("harness.aws.retry")

# botocore makes one attempt per call; `RetryPolicy` (in `needs-retry`) decides about the others.
BOTO_CONFIG = BotoConfig(retries={"total_max_attempts": 1, "mode": "standard"},
                         connect_timeout=10, read_timeout=60, max_pool_connections=32)
_CALL = "stackharness_call"                   # key of the per-call state in botocore's request context
_FAULT_HEADER = "x-stackharness-injected-fault"  # marks an attempt to answer with a fault (never sent)


@dataclass(frozen=True)
class ClientIdentity:
    """Who a client calls as and where: the meter's and the rate limiter's dimensions."""

    service: str      # boto3 service name: s3, ec2, secretsmanager, ...
    account: str      # account id, or "default" for the credential chain's account
    region: str


@dataclass
class _Call:
    operation: str
    started: float
    fingerprint: str | None
    attempts: int = 1
    throttles: int = 0


class CallHooks:
    """The shared parts every pooled client reports to: guard, budget, meter, limiters, faults."""

    def __init__(self, *, guard: ReadOnlyGuard, meter: ApiMeter, budget: ApiBudget, limiters: RateLimiters,
                 clock: Clock, faults: FaultInjector | None = None, jitter: Jitter | None = None) -> None:
        self.guard = guard
        self.meter = meter
        self.budget = budget
        self.limiters = limiters
        self.clock = clock
        self.faults = faults
        self.jitter = jitter          # backoff jitter for every policy (None: uniform random)

    def policy(self, settings: RetrySettings) -> RetryPolicy:
        """The retry policy of an environment profile's `retry:` settings."""
        return RetryPolicy.from_settings(settings, jitter=self.jitter)

    def install(self, client: Any, identity: ClientIdentity, policy: RetryPolicy,
                rate_limit: float | None = None) -> None:
        """Register the hooks on one client (idempotent)."""
        bucket = self.limiters.bucket((identity.account, identity.region, identity.service), rate_limit)
        _ClientHooks(self, client, identity, policy, bucket).register()


class _ClientHooks:
    def __init__(self, shared: CallHooks, client: Any, identity: ClientIdentity, policy: RetryPolicy,
                 bucket: TokenBucket) -> None:
        self.shared = shared
        self.client = client
        self.identity = identity
        self.policy = policy
        self.bucket = bucket
        self.protocol = client.meta.service_model.resolved_protocol

    def register(self) -> None:
        events = self.client.meta.events
        for event, handler in (("before-parameter-build", self.before_parameter_build),
                               ("request-created", self.request_created),
                               ("before-send", self.before_send),
                               ("needs-retry", self.needs_retry),
                               ("after-call", self.after_call),
                               ("after-call-error", self.after_call_error)):
            events.register(event, handler, unique_id=f"stackharness-{event}")

    # -- per call --------------------------------------------------------------------------------
    def before_parameter_build(self, params: dict, model: Any, context: dict, **_: Any) -> None:
        ident = self.identity
        self.shared.guard.check(ident.service, model.name, params, account=ident.account,
                                region=ident.region)
        self.shared.budget.charge(f"{ident.service}.{model.name}", ident.region)
        faults = self.shared.faults
        fingerprint = (call_fingerprint(ident.service, model.name, params)
                       if faults is not None and faults.spec.active else None)
        context[_CALL] = _Call(model.name, self.shared.clock.monotonic(), fingerprint)

    def after_call(self, http_response: Any, parsed: Any, context: dict, **_: Any) -> None:
        failed = http_response.status_code >= 300 and not is_answer(parsed)
        self._finish(context, failed=failed)
        if not failed:
            self.bucket.on_success()

    def after_call_error(self, context: dict, **_: Any) -> None:
        self._finish(context, failed=True)

    def _finish(self, context: dict, *, failed: bool) -> None:
        call: _Call | None = context.pop(_CALL, None)
        if call is None:
            return
        ident = self.identity
        outcome = outcome_of(failed=failed, attempts=call.attempts, throttles=call.throttles)
        self.shared.meter.record(CallKey(ident.service, call.operation, ident.account, ident.region, outcome),
                                 attempts=call.attempts, throttles=call.throttles,
                                 latency=self.shared.clock.monotonic() - call.started)

    # -- per attempt -----------------------------------------------------------------------------
    def request_created(self, request: Any, **_: Any) -> None:
        context = getattr(request, "context", None) or {}
        call: _Call | None = context.get(_CALL)
        if call is None:
            return
        call.attempts = context.get("retries", {}).get("attempt", call.attempts)
        self.bucket.acquire()
        faults = self.shared.faults
        if faults is None or call.fingerprint is None:
            return
        if faults.latency:
            self.shared.clock.sleep(faults.latency)
        kind = faults.decide(call.fingerprint, call.attempts,
                             last_allowed=call.attempts >= self.policy.max_attempts)
        if kind is not None:
            request.headers[_FAULT_HEADER] = kind

    def before_send(self, request: Any, **_: Any) -> Any:
        kind = request.headers.get(_FAULT_HEADER)
        if kind is None:
            return None
        if isinstance(kind, bytes):
            kind = kind.decode()
        if supports(self.protocol):
            return fault_response(kind, self.protocol, request.url)
        code, status = fault_error(kind, self.protocol)
        raise ClientError({"Error": {"Code": code, "Message": f"injected by --inject-aws-faults ({kind})"},
                           "ResponseMetadata": {"HTTPStatusCode": status}}, "injected fault")

    def needs_retry(self, attempts: int, request_dict: dict, response: Any = None,
                    caught_exception: BaseException | None = None, **_: Any) -> float | None:
        call: _Call | None = request_dict.get("context", {}).get(_CALL)
        verdict = classify_response(response, caught_exception)
        if verdict.throttled:
            self.bucket.on_throttle()
            if call is not None:
                call.throttles += 1
        if not self.policy.should_retry(verdict, attempts):
            return None
        delay = self.policy.delay(attempts)
        ident = self.identity
        log.debug("%s.%s in %s/%s: %s, retry %d after %.3fs", ident.service,
                  call.operation if call else "?", ident.account, ident.region, verdict.reason,
                  attempts, delay)
        self.shared.clock.sleep(delay)
        return 0  # we waited already; botocore retries at once
