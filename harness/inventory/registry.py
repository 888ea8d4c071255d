"""Every supported resource type, by Terraform type name."""

from __future__ import annotations

from collections.abc import Mapping

from harness.inventory.spec import ResourceType
from harness.inventory.types import dynamodb, ec2, iam, kms, s3, secretsmanager, sns, sqs

_MODULES = (s3, ec2, iam, dynamodb, sqs, sns, kms, secretsmanager)
RESOURCE_TYPES: Mapping[str, ResourceType] = {t.type: t for module in _MODULES for t in module.TYPES}


def supported_types() -> frozenset[str]:
    """Terraform types that have a live reader (others are reported as unchecked)."""
    return frozenset(RESOURCE_TYPES)
