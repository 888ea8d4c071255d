"""Unmanaged resources: live resources that carry an ownership marker but are in no state.

Config `unmanaged: {tag_keys: [...], name_prefixes: [...]}` says what marks a resource as ours.
A resource whose tag `K` (K in `tag_keys`) is set belongs to the stack named by the tag's value;
a resource whose name starts with a prefix belongs to the stack the prefix names: a prefix may hold
`{stack}` (`"{stack}-"` matches `core-ue1-test-orders` for stack `core-ue1-test`), and a plain prefix
marks the resource as ours with no stack. Empty config turns the check off.

The check runs per account/region under check (`Scope`) and compares against the states of every
instance of the repository in that account (so a narrow selection never makes the other instances'
resources look unmanaged). Global types (IAM, S3 buckets) are checked once per account, in the
account's first scope. Sub-resources (bucket versioning, policy attachments) are never unmanaged on
their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.aws.target import AwsTarget
from harness.config import UnmanagedRules
from harness.drift.findings import EvaluationError, Finding
from harness.inventory.engine import LiveInventory, LiveReadError, LiveResource
from harness.inventory.spec import ResourceType
from harness.stacks.model import ComponentInstance
from harness.state.model import TerraformState

DEFAULT_ACCOUNT = "default"
STACK_PLACEHOLDER = "{stack}"


@dataclass(frozen=True)
class Scope:
    """An account and region under check; `id` is `<account>/<region>` (`default` for the run's credentials)."""

    account: str | None
    region: str
    role_arn: str | None = None

    @property
    def id(self) -> str:
        return f"{self.account or DEFAULT_ACCOUNT}/{self.region}"

    @property
    def target(self) -> AwsTarget:
        return AwsTarget(region=self.region, account_id=self.account, role_arn=self.role_arn)


def scope_of(instance: ComponentInstance, default_region: str) -> Scope:
    """The account/region an instance's resources live in."""
    return Scope(instance.account_id, instance.region or default_region, instance.role_arn)


def scopes_of(instances: Iterable[ComponentInstance], default_region: str) -> list[Scope]:
    """Every distinct scope of the instances, sorted by id (the same order on every xdist worker)."""
    found: dict[str, Scope] = {}
    for instance in instances:
        scope = scope_of(instance, default_region)
        found.setdefault(scope.id, scope)
    return [found[key] for key in sorted(found)]


def owns_globals(scope: Scope, scopes: Iterable[Scope]) -> bool:
    """True when the scope is its account's first: global types are checked there only."""
    first = min((s.id for s in scopes if (s.account or DEFAULT_ACCOUNT) == (scope.account or DEFAULT_ACCOUNT)),
                default=scope.id)
    return first == scope.id


@dataclass(frozen=True)
class Owner:
    """Why a live resource is ours: the marker that matched, and the stack it names (if any)."""

    marker: str
    stack: str | None


def owner_of(resource: LiveResource, rules: UnmanagedRules, stacks: Iterable[str]) -> Owner | None:
    """The ownership marker a live resource carries, or None (tags first, then name prefixes)."""
    for key in rules.tag_keys:
        if key in resource.tags:
            return Owner(f"tag {key}", resource.tags[key] or None)
    for prefix in rules.name_prefixes:
        if STACK_PLACEHOLDER in prefix:
            matches = [s for s in stacks if resource.name.startswith(prefix.replace(STACK_PLACEHOLDER, s))]
            if matches:
                return Owner(f"name prefix {prefix}", max(matches, key=len))
        elif resource.name.startswith(prefix):
            return Owner(f"name prefix {prefix}", None)
    return None


@dataclass(frozen=True)
class UnmanagedResult:
    """What checking one scope found."""

    scope: str
    findings: tuple[Finding, ...] = ()
    errors: tuple[EvaluationError, ...] = ()
    types_checked: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"scope": self.scope, "findings": [f.to_json() for f in self.findings],
                "errors": [e.to_json() for e in self.errors], "types_checked": list(self.types_checked)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UnmanagedResult:
        return cls(scope=data["scope"], findings=tuple(Finding.from_json(f) for f in data.get("findings", ())),
                   errors=tuple(EvaluationError(**e) for e in data.get("errors", ())),
                   types_checked=tuple(data.get("types_checked", ())))


def known_ids(states: Iterable[TerraformState], types: Mapping[str, ResourceType]) -> dict[str, set[str]]:
    """Live ids of every managed resource in the states, by type."""
    known: dict[str, set[str]] = {}
    for state in states:
        for resource in state.managed_resources:
            rtype = types.get(resource.type)
            if rtype is not None:
                rid = rtype.state_id(resource.attributes)
                if rid:
                    known.setdefault(resource.type, set()).add(rid)
    return known


def check_scope(scope: Scope, inventory: LiveInventory, types: Mapping[str, ResourceType], rules: UnmanagedRules, *,
                regional_states: Iterable[TerraformState], account_states: Iterable[TerraformState],
                stacks: Iterable[str], include_global: bool,
                stack_context: Callable[[str | None], Mapping[str, Any]]) -> UnmanagedResult:
    """Unmanaged findings of one scope. `stack_context(stack)` gives the finding's `environment_type`
    and `severity` for the owning stack. A type whose listing fails is an evaluation error."""
    regional, account = known_ids(regional_states, types), known_ids(account_states, types)
    stacks = sorted(stacks)
    findings: list[Finding] = []
    errors: list[EvaluationError] = []
    checked = []
    for name in sorted(types):
        rtype = types[name]
        if not rtype.standalone or (rtype.listing.global_service and not include_global):
            continue
        known = account if rtype.listing.global_service else regional
        try:
            candidates = inventory.unknown(rtype, scope.target, known.get(name, set()),
                                           with_tags=bool(rules.tag_keys))
        except LiveReadError as exc:
            errors.append(EvaluationError(None, f"{scope.id}: {name}: {exc.message}"))
            continue
        checked.append(name)
        for resource in candidates:
            owner = owner_of(resource, rules, stacks)
            if owner is None:
                continue
            findings.append(Finding(kind="unmanaged", address=f"{name}.{resource.name}", type=name,
                                    resource_id=resource.id, instance=None, stack=owner.stack,
                                    actual={"marker": owner.marker}, **stack_context(owner.stack)))
    return UnmanagedResult(scope.id, tuple(findings), tuple(errors), tuple(checked))
