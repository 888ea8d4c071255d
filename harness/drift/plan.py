"""Plan-JSON drift: `terraform show -json` of a `terraform plan -refresh-only` -> the same findings.

Users who can run Terraform with every provider get full-coverage drift (every resource type,
every attribute) through the same suppressions, severities and reports. The file contract:

    DIR/<instance file name>.json      (see `plan_file`: the instance id, "/" written as "%2F")

holding the output of::

    terraform plan -refresh-only -out=drift.tfplan && terraform show -json drift.tfplan

Each `resource_drift[]` entry of a managed resource becomes findings: `change.actions == ["delete"]`
is `missing` (the resource is gone), `["update"]` gives one `changed` finding per differing
attribute path between `change.before` and `change.after` (both are state values, so the type's
state normalisers apply to both; set attributes of supported types are compared as sets; `tags`
and `tags_all` are reported once, as `tags.<key>` or `tags_all.<key>`; a type's `plan_ignored`
attributes, such as the computed mirrors on `aws_s3_bucket`, are skipped). Paths under
`before_sensitive`/`after_sensitive` markers, and every copy of their values, are masked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from harness.drift.compare import Masker, differences
from harness.drift.findings import EvaluationError, Finding, InstanceResult
from harness.errors import HarnessError
from harness.inventory.spec import Attr, ResourceType
from harness.log import Redactor
from harness.stacks.model import ComponentInstance
from harness.state.model import SensitivePath

_TAGS = Attr("tags_all", "tags_all", compare="tags")


class PlanError(HarnessError):
    """A plan JSON file that is missing or not `terraform show -json` output."""


def plan_file(directory: Path, instance_id: str) -> Path:
    """Where the plan JSON of an instance is expected: `DIR/<instance id>.json` ("/" as "%2F")."""
    return directory / (instance_id.replace("/", "%2F") + ".json")


def read_plan(path: Path) -> dict[str, Any]:
    """Load a plan JSON file; raises `PlanError` naming the file when it cannot be used."""
    hint = "write it with `terraform show -json PLANFILE > FILE` after `terraform plan -refresh-only -out=PLANFILE`"
    if not path.is_file():
        raise PlanError("no plan JSON for this instance", where=path, hint=hint)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlanError(f"cannot read plan JSON: {exc}", where=path, hint=hint) from None
    if not isinstance(document, dict) or "format_version" not in document:
        raise PlanError("not `terraform show -json` output of a plan (no format_version)", where=path, hint=hint)
    if not isinstance(document.get("resource_drift") or [], list):
        raise PlanError("resource_drift is not a list", where=path, hint=hint)
    return document


def result_from_plan(plan: Mapping[str, Any], instance: ComponentInstance, types: Mapping[str, ResourceType], *,
                     severity: str = "fail", redactor: Redactor | None = None) -> InstanceResult:
    """The instance's drift from its refresh-only plan (every resource type is checked)."""
    context = {"instance": instance.id, "stack": instance.stack, "component": instance.component,
               "environment_type": instance.environment_type, "severity": severity}
    findings: list[Finding] = []
    errors: list[EvaluationError] = []
    if plan.get("errored"):
        errors.append(EvaluationError(instance.id, "the refresh-only plan errored (terraform reported errors)"))
    drifted = set()
    for entry in plan.get("resource_drift") or ():
        if entry.get("mode", "managed") != "managed":
            continue   # data sources are not managed resources
        drifted.add(entry.get("address"))
        findings.extend(f.with_changes(**context)
                        for f in drift_findings(entry, types.get(entry.get("type", "")), redactor=redactor))
    managed = _managed_addresses(plan) | drifted
    return InstanceResult(instance=instance.id, findings=tuple(findings), errors=tuple(errors),
                          resources=len(managed), checked=len(managed))


def drift_findings(entry: Mapping[str, Any], rtype: ResourceType | None, *,
                   redactor: Redactor | None = None) -> list[Finding]:
    """Findings of one `resource_drift` entry (`rtype` gives compare modes for known attributes)."""
    change = entry.get("change") or {}
    actions = list(change.get("actions") or ())
    before, after = change.get("before") or {}, change.get("after") or {}
    base = Finding(kind="missing", address=str(entry.get("address", "")), type=str(entry.get("type", "")),
                   resource_id=_id(before) or _id(after))
    if "delete" in actions:
        return [base]
    if actions != ["update"]:
        return []   # no-op / read: nothing drifted
    paths = [*sensitive_paths(change.get("before_sensitive")), *sensitive_paths(change.get("after_sensitive"))]
    masker = Masker.of([before, after], paths)
    if redactor is not None:
        for secret in masker.secrets:
            redactor.register(secret)
    known = {a.name: a for a in rtype.attributes} if rtype is not None else {}
    ignored = set(rtype.plan_ignored) if rtype is not None else set()
    configured = before.get("tags") or {}
    findings = []
    for name in _attribute_names(before, after):
        if name in ignored:
            continue
        attr = _TAGS if name == "tags_all" else known.get(name, Attr(name, name))
        for path, expected, actual in differences(attr, attr.state(before.get(name)), attr.state(after.get(name)),
                                                  configured):
            findings.append(masker.finding(base, path, expected, actual, set_diff=attr.compare == "set"))
    return findings


def _attribute_names(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    names = list(dict.fromkeys([*before, *after]))
    if "tags_all" in names:   # a tag change shows in both maps: reported once, through tags_all
        names = [n for n in names if n != "tags"]
    return names


def _id(values: Mapping[str, Any]) -> str | None:
    value = values.get("id") if isinstance(values, Mapping) else None
    return str(value) if value is not None else None


def sensitive_paths(marker: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[SensitivePath]:
    """Paths marked `true` in a `before_sensitive`/`after_sensitive` structure.

    Example: `{"password": true, "tags": {"token": true}, "list": [false, true]}` ->
    `("password",)`, `("tags", "token")`, `("list", 1)`.
    """
    if marker is True:
        if prefix:
            yield prefix
    elif isinstance(marker, Mapping):
        for key, value in marker.items():
            yield from sensitive_paths(value, (*prefix, str(key)))
    elif isinstance(marker, list):
        for index, value in enumerate(marker):
            yield from sensitive_paths(value, (*prefix, index))


def _managed_addresses(plan: Mapping[str, Any]) -> set[str]:
    """Managed resource instances in the plan's prior state (the resources checked)."""
    root = ((plan.get("prior_state") or {}).get("values") or {}).get("root_module") or {}
    return {r["address"] for r in _module_resources(root) if r.get("mode", "managed") == "managed" and "address" in r}


def _module_resources(module: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    yield from module.get("resources") or ()
    for child in module.get("child_modules") or ():
        yield from _module_resources(child)
