"""Fault injection, a testing aid: `--inject-aws-faults throttle=0.3,error=0.0,latency_ms=20,seed=1`.

Faults are real AWS error responses (an HTTP response in the service's own wire protocol, parsed by
botocore like any other), so they take exactly the path a real throttle takes: our retry policy, the
rate limiter, the meter, and, if retries run out, the `ClientError` the caller sees.

Determinism: whether attempt n of a call is faulted depends only on the seed, the call (service,
operation, parameters) and n, never on thread scheduling or on which xdist worker runs it, so the
same seed gives the same faults in every run and every worker. The last attempt the retry policy
allows is never faulted unless `throttle + error` is 1: injection exercises the recovery path and a
drift run with faults finds exactly what it finds without them; `throttle=1` tests exhaustion.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSResponse

from harness.errors import ConfigError

THROTTLE = "throttle"
ERROR = "error"
_KEYS = ("throttle", "error", "latency_ms", "seed")
_HINT = "write it as throttle=0.3,error=0.0,latency_ms=20,seed=1 (every key optional)"


@dataclass(frozen=True)
class FaultSpec:
    """Probabilities per attempt (`throttle`, `error`), added latency per attempt, and the seed."""

    throttle: float = 0.0
    error: float = 0.0
    latency_ms: float = 0.0
    seed: int = 0

    @property
    def active(self) -> bool:
        return bool(self.throttle or self.error or self.latency_ms)

    @classmethod
    def parse(cls, text: str | None, *, where: str = "inject_aws_faults") -> FaultSpec | None:
        """Parse `throttle=0.3,error=0.0,latency_ms=20,seed=1`; None or empty text means no faults."""
        if text is None or not text.strip():
            return None
        values: dict[str, Any] = {}
        for part in text.split(","):
            name, sep, raw = (p.strip() for p in part.partition("="))
            if not part.strip():
                continue
            if not sep or not raw:
                raise ConfigError(f"fault setting {part.strip()!r} has no value", where=where, hint=_HINT)
            if name not in _KEYS:
                close = difflib.get_close_matches(name, _KEYS, n=1)
                raise ConfigError(f"unknown fault setting {name!r}", where=where,
                                  hint=f"did you mean {close[0]!r}?" if close else _HINT)
            if name in values:
                raise ConfigError(f"fault setting {name!r} is given twice", where=where, hint=_HINT)
            values[name] = _number(name, raw, where)
        spec = cls(**values)
        if spec.throttle + spec.error > 1:
            raise ConfigError(f"throttle + error is {spec.throttle + spec.error:g}, more than 1",
                              where=where, hint="they are probabilities per attempt; keep their sum <= 1")
        return spec

    def __str__(self) -> str:
        return (f"throttle={self.throttle:g},error={self.error:g},latency_ms={self.latency_ms:g},"
                f"seed={self.seed}")


def _number(name: str, raw: str, where: str) -> float | int:
    try:
        value: float | int = int(raw) if name == "seed" else float(raw)
    except ValueError:
        kind = "a whole number" if name == "seed" else "a number"
        raise ConfigError(f"fault setting {name}={raw!r} is not {kind}", where=where, hint=_HINT) from None
    if name in ("throttle", "error") and not 0 <= value <= 1:
        raise ConfigError(f"fault setting {name}={raw} is not a probability", where=where,
                          hint="use a value from 0 to 1")
    if name == "latency_ms" and value < 0:
        raise ConfigError(f"fault setting latency_ms={raw} is negative", where=where, hint=_HINT)
    return value


def call_fingerprint(service: str, operation: str, params: Mapping[str, Any]) -> str:
    """A stable digest of a call, independent of process, thread and dict order."""
    text = json.dumps(params, sort_keys=True, default=str)
    return hashlib.sha256(f"{service}.{operation}:{text}".encode()).hexdigest()


class FaultInjector:
    """Decides, deterministically, which attempts fail and how."""

    def __init__(self, spec: FaultSpec) -> None:
        self.spec = spec

    @property
    def latency(self) -> float:
        """Seconds added to every attempt."""
        return self.spec.latency_ms / 1000.0

    def decide(self, fingerprint: str, attempt: int, *, last_allowed: bool) -> str | None:
        """`THROTTLE`, `ERROR` or None for attempt `attempt` (1-based) of the call `fingerprint`."""
        total = self.spec.throttle + self.spec.error
        if total <= 0 or (last_allowed and total < 1):
            return None
        draw = random.Random(f"{self.spec.seed}:{fingerprint}:{attempt}").random()
        if draw < self.spec.throttle:
            return THROTTLE
        if draw < total:
            return ERROR
        return None


# (error code, HTTP status) per wire protocol, as the services really answer.
_THROTTLE = {"ec2": ("RequestLimitExceeded", 503), "query": ("Throttling", 400),
             "json": ("ThrottlingException", 400), "rest-json": ("TooManyRequestsException", 429),
             "rest-xml": ("SlowDown", 503)}
_ERROR = {"ec2": ("InternalError", 500), "query": ("InternalFailure", 500),
          "json": ("InternalFailure", 500), "rest-json": ("InternalFailure", 500),
          "rest-xml": ("InternalError", 500)}
REQUEST_ID = "stackharness-injected-fault"


class _Raw:
    """The body stream botocore reads an `AWSResponse` from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def supports(protocol: str) -> bool:
    """True when faults can be rendered as a wire response for this protocol."""
    return protocol in _THROTTLE


def fault_error(kind: str, protocol: str) -> tuple[str, int]:
    """The (code, status) a fault of `kind` answers with (protocols without a template get query's)."""
    table = _THROTTLE if kind == THROTTLE else _ERROR
    return table.get(protocol, table["query"])


def fault_response(kind: str, protocol: str, url: str) -> AWSResponse:
    """An HTTP error response in `protocol`'s format for a fault of `kind`."""
    code, status = fault_error(kind, protocol)
    message = f"injected by --inject-aws-faults ({kind})"
    headers = {"x-amzn-requestid": REQUEST_ID}
    if protocol in ("json", "rest-json"):
        body = json.dumps({"__type": code, "message": message}).encode()
        headers["content-type"] = "application/x-amz-json-1.0"
        if protocol == "rest-json":
            headers["x-amzn-errortype"] = code
    elif protocol == "ec2":
        body = (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error>"
                f"</Errors><RequestID>{REQUEST_ID}</RequestID></Response>").encode()
    elif protocol == "rest-xml":
        body = (f"<Error><Code>{code}</Code><Message>{message}</Message>"
                f"<RequestId>{REQUEST_ID}</RequestId></Error>").encode()
    else:
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}"
                f"</Message></Error><RequestId>{REQUEST_ID}</RequestId></ErrorResponse>").encode()
    return AWSResponse(url, status, headers, _Raw(body))
