"""Which instance manages a credential (by ARN/id in its Terraform state), and the scopes to list.

Only the resource that creates a credential links it (an `aws_lb_listener` that merely uses a
certificate ARN does not). IAM server certificates link by name or ARN, never by the id Terraform
stores: moto gives every server certificate the same `ServerCertificateId`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from harness.config import HarnessConfig
from harness.credentials.model import (
    ACM_CERTIFICATE,
    GLOBAL_REGION,
    IAM_ACCESS_KEY,
    IAM_SERVER_CERTIFICATE,
    KMS_KEY,
    SECRETSMANAGER_SECRET,
    Credential,
    Scope,
)
from harness.stacks.model import ComponentInstance
from harness.state.model import TerraformState

# Terraform resource type -> (credential kind, attributes that hold the credential's id/ARN/name)
MANAGING_RESOURCES: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "aws_acm_certificate": (ACM_CERTIFICATE, ("arn", "id")),
    "aws_iam_server_certificate": (IAM_SERVER_CERTIFICATE, ("arn", "name")),
    "aws_iam_access_key": (IAM_ACCESS_KEY, ("id",)),
    "aws_secretsmanager_secret": (SECRETSMANAGER_SECRET, ("arn", "id")),
    "aws_kms_key": (KMS_KEY, ("arn", "key_id", "id")),
}


@dataclass(frozen=True)
class ManagedCredential:
    """A resource in a state that creates a credential, and the strings naming that credential."""

    kind: str
    address: str
    refs: frozenset[str]


def managed_credentials(state: TerraformState) -> tuple[ManagedCredential, ...]:
    """Every credential a state's managed resources create."""
    found = []
    for resource in state.managed_resources:
        spec = MANAGING_RESOURCES.get(resource.type)
        if spec is None:
            continue
        kind, attributes = spec
        refs = frozenset(v for a in attributes if isinstance(v := resource.attributes.get(a), str) and v)
        if refs:
            found.append(ManagedCredential(kind, resource.address, refs))
    return tuple(found)


def managed_refs(managed: Iterable[ManagedCredential]) -> set[tuple[str, str]]:
    """(kind, id/ARN/name) pairs of managed credentials."""
    return {(m.kind, ref) for m in managed for ref in m.refs}


@dataclass(frozen=True)
class Ownership:
    """(kind, ref) -> the instance whose state manages that credential."""

    owners: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def owner_of(self, credential: Credential) -> str | None:
        """The managing instance's id, or None (unmanaged)."""
        for ref in sorted(credential.refs):
            owner = self.owners.get((credential.kind, ref))
            if owner:
                return owner
        return None


def instance_region(instance: ComponentInstance, config: HarnessConfig) -> str:
    """The AWS region an instance deploys to."""
    return instance.region or config.default_region


def scopes_of(instance: ComponentInstance, config: HarnessConfig) -> tuple[Scope, Scope]:
    """The instance's regional scope and its account's global (IAM) scope."""
    return (Scope(instance.account_id, instance_region(instance, config)),
            Scope(instance.account_id, GLOBAL_REGION))


def scopes_for(instances: Iterable[ComponentInstance], config: HarnessConfig) -> tuple[Scope, ...]:
    """Every scope reached by the instances, sorted by id."""
    scopes = {scope for instance in instances for scope in scopes_of(instance, config)}
    return tuple(sorted(scopes, key=lambda s: s.id))


def in_scope(instance: ComponentInstance, scope: Scope, config: HarnessConfig) -> bool:
    """True when the instance deploys into the scope (same account; same region unless global)."""
    if instance.account_id != scope.account:
        return False
    return scope.is_global or instance_region(instance, config) == scope.region


def scope_environment_type(scope: Scope, instances: Iterable[ComponentInstance], config: HarnessConfig) -> str | None:
    """The environment type whose policy applies to a scope's unmanaged credentials.

    The account mapping (`environments.accounts`) when it names the account, else the one type
    all instances in the scope share, else None (the default profile).
    """
    if scope.account and scope.account in config.environments.accounts:
        return config.environments.accounts[scope.account]
    types = {i.environment_type for i in instances if in_scope(i, scope, config)}
    return types.pop() if len(types) == 1 else None

