"""Drift findings and the per-instance result that travels from workers to the controller."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

KINDS = ("changed", "missing", "unmanaged")
SENSITIVE_CHANGED = "(sensitive value changed)"
SET_REMOVED, SET_ADDED = "removed (in state only)", "added (live only)"   # the sides of a set finding
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_path(parts: Iterable[str | int]) -> str:
    """A dotted attribute path: `tags.Owner`, `ingress[2].cidr_blocks`, `tags["a.b"]`."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text


@dataclass(frozen=True)
class Finding:
    """One drift: a changed attribute, a missing resource, or an unmanaged live resource."""

    kind: str                              # changed | missing | unmanaged
    address: str                           # Terraform address (for unmanaged: type.live-id)
    type: str
    resource_id: str | None
    path: str = ""                         # attribute path for `changed`, empty otherwise
    expected: Any = None                   # state side
    actual: Any = None                     # live side
    instance: str | None = None            # None for unmanaged resources
    stack: str | None = None
    component: str | None = None
    environment_type: str | None = None
    severity: str = "fail"                 # fail | warn (from the environment profile)
    suppressed: bool = False
    suppression: Mapping[str, Any] | None = None
    upstream_drift: tuple[str, ...] = ()
    set_diff: bool = False                 # a set attribute: expected = removed elements, actual = added

    @property
    def fingerprint(self) -> str:
        """Stable identity across runs: instance (or stack), address, kind, path."""
        return "|".join((self.instance or f"unmanaged:{self.stack or ''}", self.address, self.kind, self.path))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["upstream_drift"] = list(self.upstream_drift)
        if not self.set_diff:
            del data["set_diff"]           # drift.json carries it only where it applies
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["upstream_drift"] = tuple(known.get("upstream_drift") or ())
        return cls(**known)

    def with_changes(self, **changes: Any) -> Finding:
        return replace(self, **changes)


def labelled_sides(set_diff: bool, expected: str, actual: str) -> tuple[str, str]:
    """How the two sides of a finding read: a set finding's say which elements were removed and added."""
    if not set_diff or SENSITIVE_CHANGED in (expected, actual):
        return expected, actual
    return f"{SET_REMOVED}: {expected}", f"{SET_ADDED}: {actual}"


@dataclass(frozen=True)
class EvaluationError:
    """Something that could not be evaluated; never counted as clean."""

    instance: str | None
    message: str
    address: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class InstanceResult:
    """What checking one instance produced: findings, evaluation errors and resource counts."""

    instance: str
    findings: tuple[Finding, ...] = ()
    errors: tuple[EvaluationError, ...] = ()
    resources: int = 0                     # managed resource instances in the state
    checked: int = 0                       # of which compared with live
    unchecked_types: Mapping[str, int] = field(default_factory=dict)  # type -> count without a reader

    @property
    def unchecked(self) -> int:
        return sum(self.unchecked_types.values())

    @property
    def drifted(self) -> bool:
        """True when an unsuppressed finding exists (whatever its severity)."""
        return any(not f.suppressed for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {"instance": self.instance, "findings": [f.to_json() for f in self.findings],
                "errors": [e.to_json() for e in self.errors], "resources": self.resources,
                "checked": self.checked, "unchecked_types": dict(self.unchecked_types)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InstanceResult:
        return cls(instance=data["instance"],
                   findings=tuple(Finding.from_json(f) for f in data.get("findings", ())),
                   errors=tuple(EvaluationError(**e) for e in data.get("errors", ())),
                   resources=int(data.get("resources", 0)), checked=int(data.get("checked", 0)),
                   unchecked_types=dict(data.get("unchecked_types") or {}))
