"""Out-of-band changes for drift scenarios: what someone does in the console behind Terraform's back.

Operations (not every one exists for every type; `available_ops(type)` lists them):
`set_tags {tags}`, `remove_tag {key}`, `delete_resource`, `change_attribute {attribute, value}`,
`add_ingress_rule {rule}` (aws_security_group), `suspend_versioning` (aws_s3_bucket_versioning).
`create_unmanaged` is not bound to a resource in a state; see `harness.emulate.scenario`.
"""

from __future__ import annotations

from collections.abc import Mapping

from harness.emulate import ec2, iam, s3, services
from harness.emulate.common import Mutation

MUTATIONS: Mapping[tuple[str, str], Mutation] = {**s3.MUTATIONS, **ec2.MUTATIONS, **iam.MUTATIONS,
                                                 **services.MUTATIONS}


def available_ops(resource_type: str) -> list[str]:
    """The mutation operations defined for a Terraform type."""
    return sorted(op for op, t in MUTATIONS if t == resource_type)
