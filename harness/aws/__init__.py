"""AWS access: pooled sessions and clients across accounts and regions, retries with backoff, an
adaptive rate limit, an API meter and budget, a read-only guard, batching helpers and fault injection.

Start from `AwsContext.from_config` (see docs/aws-access.md).
"""

from harness.aws.batching import ItemRead, batch_read, chunk_limit, chunked, paginate, read_each
from harness.aws.budget import ApiBudget
from harness.aws.context import AwsContext
from harness.aws.faults import FaultSpec
from harness.aws.guard import ReadOnlyGuard, WritePermission
from harness.aws.meter import ApiMeter
from harness.aws.retry import RetryPolicy
from harness.aws.session import SessionPool
from harness.aws.target import AwsTarget

__all__ = ["ApiBudget", "ApiMeter", "AwsContext", "AwsTarget", "FaultSpec", "ItemRead", "ReadOnlyGuard",
           "RetryPolicy", "SessionPool", "WritePermission", "batch_read", "chunk_limit", "chunked",
           "paginate", "read_each"]
