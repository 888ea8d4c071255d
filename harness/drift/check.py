"""Check one component instance: every managed resource in its state against live AWS."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Mapping

from harness.aws.target import AwsTarget
from harness.drift.compare import compare_resource
from harness.drift.findings import EvaluationError, Finding, InstanceResult
from harness.inventory.engine import LiveInventory, LiveReadError
from harness.inventory.spec import ResourceType
from harness.stacks.model import ComponentInstance
from harness.state.model import ResourceInstance, TerraformState

log = logging.getLogger(__name__)


def check_instance(instance: ComponentInstance, state: TerraformState, inventory: LiveInventory,
                   types: Mapping[str, ResourceType], *, severity: str = "fail") -> InstanceResult:
    """Compare each managed resource of `state` with live AWS; unsupported types are counted, not passed.

    A resource whose live read fails becomes an evaluation error for that resource only; the
    others are still compared.
    """
    managed = state.managed_resources
    by_type: dict[str, list[ResourceInstance]] = defaultdict(list)
    unchecked: Counter[str] = Counter()
    for resource in managed:
        if resource.type in types:
            by_type[resource.type].append(resource)
        else:
            unchecked[resource.type] += 1
    if unchecked:
        log.warning("%s: %d resource(s) of types without a live reader not checked: %s", instance.id,
                    sum(unchecked.values()), ", ".join(f"{t} ({n})" for t, n in sorted(unchecked.items())))

    findings: list[Finding] = []
    errors: list[EvaluationError] = []
    checked = 0
    target = AwsTarget.of_instance(instance)
    context = {"instance": instance.id, "stack": instance.stack, "component": instance.component,
               "environment_type": instance.environment_type, "severity": severity}
    for type_name in sorted(by_type):
        rtype, resources = types[type_name], by_type[type_name]
        try:
            live = inventory.get_many(rtype, [rtype.state_id(r.attributes) or "" for r in resources], target=target)
        except LiveReadError as exc:
            errors.extend(EvaluationError(instance.id, exc.message, r.address) for r in resources)
            continue
        for resource in resources:
            outcome = live.get(rtype.state_id(resource.attributes) or "")
            if isinstance(outcome, LiveReadError):
                errors.append(EvaluationError(instance.id, outcome.message, resource.address))
                continue
            checked += 1
            findings.extend(f.with_changes(**context) for f in compare_resource(rtype, resource, outcome))
    return InstanceResult(instance=instance.id, findings=tuple(findings), errors=tuple(errors),
                          resources=len(managed), checked=checked, unchecked_types=dict(unchecked))
