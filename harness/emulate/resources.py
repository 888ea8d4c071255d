"""Every emulated resource type: a creator per Terraform type (boto3 create + the state provider v5 writes).

A creator returns the attributes the AWS provider v5 writes into state after `terraform apply`:
the configured arguments with the provider's schema defaults filled in, plus the computed values
the API returned (ids, ARNs, the default policy AWS attached). They are written independently of the
inventory's live reads (no normaliser is shared), so a check right after provisioning is a real
test of the normalisers: it must find nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from harness.emulate import ec2, iam, s3, services
from harness.emulate.common import Creator, Target

CREATORS: Mapping[str, Creator] = {**s3.CREATORS, **ec2.CREATORS, **iam.CREATORS, **services.CREATORS}
# type -> function(new resource's attributes, every resource created so far by address) that updates the
# other resources' state the way the next refresh would (a new rule shows in its group's `ingress`)
REFRESHES: Mapping[str, Callable[[Mapping[str, Any], Mapping[str, dict[str, Any]]], None]] = {**ec2.REFRESHES}

__all__ = ["CREATORS", "REFRESHES", "Creator", "Target"]
