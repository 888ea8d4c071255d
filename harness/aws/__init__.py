"""AWS access: pooled sessions and clients across accounts and regions."""

from harness.aws.session import SessionPool

__all__ = ["SessionPool"]
