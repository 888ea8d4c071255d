"""AWS access: pooled sessions and clients across accounts and regions, retries with backoff, an
adaptive rate limit, an API meter and budget, a read-only guard, batching helpers and fault injection.

Start from `AwsContext.from_config` (see docs/aws-access.md).
"""

from importlib import import_module
from typing import Any

# Public names and their modules; imported on first use so that `import harness.aws.meter` (the
# pytest controller) does not load boto3.
_EXPORTS = {
    "ItemRead": "batching", "batch_read": "batching", "chunk_limit": "batching", "chunked": "batching",
    "paginate": "batching", "read_each": "batching", "ApiBudget": "budget", "AwsContext": "context",
    "FaultSpec": "faults", "ReadOnlyGuard": "guard", "WritePermission": "guard", "ApiMeter": "meter",
    "RetryPolicy": "retry", "SessionPool": "session", "AwsTarget": "target",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'harness.aws' has no attribute {name!r}")
    return getattr(import_module(f"harness.aws.{_EXPORTS[name]}"), name)
