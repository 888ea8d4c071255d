"""Apply a drift scenario's out-of-band changes to a provisioned repository (on moto)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from harness.drift.scenarios import CREATE_UNMANAGED, Mutation, Scenario
from harness.emulate.apply import instance_target
from harness.emulate.mutations import MUTATIONS, available_ops
from harness.emulate.resources import CREATORS
from harness.errors import HarnessError
from harness.stacks import StackSet
from harness.state.model import format_index

if TYPE_CHECKING:
    from harness.aws.session import SessionPool

log = logging.getLogger(__name__)


def resource_addresses(state: Mapping[str, Any]) -> dict[str, tuple[str, Mapping[str, Any]]]:
    """Every managed resource instance of a state document: address -> (type, attributes)."""
    found = {}
    for resource in state.get("resources", ()):
        if resource.get("mode", "managed") != "managed":
            continue
        for instance in resource.get("instances", ()):
            key = instance.get("index_key")
            address = f"{resource['type']}.{resource['name']}" + (format_index(key) if key is not None else "")
            found[address] = (resource["type"], instance["attributes"])
    return found


def apply_mutation(pool: SessionPool, stack_set: StackSet, states: Mapping[str, Mapping[str, Any]],
                   account_id: str, scenario: Scenario, mutation: Mutation) -> None:
    """Make one out-of-band change (writes must already be allowed by the caller)."""
    instance = stack_set.get(mutation.instance)
    state = states.get(mutation.instance)
    if instance is None or state is None:
        raise HarnessError(f"scenario mutation targets unknown instance {mutation.instance!r}",
                           where=scenario.source, hint="use an id from `stackharness describe stacks`")
    target = instance_target(pool, instance, account_id, default_tags=False)
    try:
        if mutation.op == CREATE_UNMANAGED:
            creator = CREATORS.get(mutation.params["type"])
            if creator is None:
                raise HarnessError(f"create_unmanaged: type {mutation.params['type']!r} cannot be created",
                                   where=scenario.source, hint=f"supported: {', '.join(sorted(CREATORS))}")
            creator(target, dict(mutation.params.get("args") or {}))
        else:
            _change(target, state, scenario, mutation)
    except (KeyError, ValueError) as exc:
        raise HarnessError(f"mutation {mutation.op} on {mutation.instance} {mutation.address or ''}: {exc}",
                           where=scenario.source, hint="check the mutation's parameters") from None
    log.info("scenario %s: %s on %s %s", scenario.name, mutation.op, mutation.instance, mutation.address or "")


def _change(target: Any, state: Mapping[str, Any], scenario: Scenario, mutation: Mutation) -> None:
    resources = resource_addresses(state)
    if mutation.address not in resources:
        raise HarnessError(f"{mutation.instance} has no resource {mutation.address}", where=scenario.source,
                           hint=f"its resources: {', '.join(sorted(resources))}")
    resource_type, attributes = resources[mutation.address]
    change = MUTATIONS.get((mutation.op, resource_type))
    if change is None:
        raise HarnessError(f"mutation {mutation.op!r} is not available for {resource_type}",
                           where=scenario.source, hint=f"available: {', '.join(available_ops(resource_type))}")
    change(target, attributes, mutation.params)
