"""Where and as whom a component instance's AWS calls go: region, account, role."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.stacks.model import ComponentInstance

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/.+$")


def account_of_role(role_arn: str) -> str | None:
    """The account id inside an IAM role ARN (None when it is not one)."""
    match = _ROLE_ARN.match(role_arn)
    return match.group(1) if match else None


@dataclass(frozen=True)
class AwsTarget:
    """An (account, role, region) to call AWS in; None fields fall back to the run's defaults."""

    region: str | None = None
    account_id: str | None = None
    role_arn: str | None = None
    environment_type: str | None = None   # picks the environment profile's retry and rate settings

    @classmethod
    def of_instance(cls, instance: ComponentInstance) -> AwsTarget:
        """The instance's own resources: its `region`, `account_id` and `role_arn` (settings)."""
        return cls(region=instance.region, account_id=instance.account_id, role_arn=instance.role_arn,
                   environment_type=instance.environment_type)

    @classmethod
    def of_backend(cls, instance: ComponentInstance) -> AwsTarget:
        """The instance's Terraform state: the S3 backend's `region` and `role_arn`.

        Terraform accepts the role as `role_arn` (before 1.6) or `assume_role.role_arn`.
        """
        backend = instance.backend
        assume = backend.get("assume_role")
        role = (assume.get("role_arn") if isinstance(assume, Mapping) else None) or backend.get("role_arn")
        region = backend.get("region") or instance.region
        return cls(region=region, account_id=account_of_role(role) if role else None, role_arn=role,
                   environment_type=instance.environment_type)
