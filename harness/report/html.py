"""The self-contained HTML drift report, rendered with Jinja2 from a drift.json document."""

from __future__ import annotations

import json
from collections.abc import Mapping
from itertools import groupby
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from harness.log import Redactor

FOLD_AT = 120                              # values longer than this are folded (click to expand)


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("harness", "report/templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["show"] = show_value
    return env


def show_value(value: Any) -> str:
    """A finding's value as text: strings as they are, everything else as compact JSON."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, indent=1 if isinstance(value, dict | list) and value else None)


def group_findings(findings: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Findings grouped stack -> component -> resource, in the document's order."""
    def key_stack(f: Mapping[str, Any]) -> str:
        return f.get("stack") or "(no stack)"

    groups = []
    for stack, in_stack in groupby(findings, key=key_stack):
        components = []
        for component, in_component in groupby(in_stack, key=lambda f: f.get("component") or "(unmanaged)"):
            resources = [{"address": address, "findings": list(items)}
                         for address, items in groupby(in_component, key=lambda f: f["address"])]
            components.append({"name": component, "resources": resources})
        groups.append({"name": stack, "components": components})
    return groups


def render_drift_report(document: Mapping[str, Any], *, redactor: Redactor) -> str:
    """The report as one HTML string that loads nothing from the network."""
    findings = list(document.get("findings", ()))
    template = _environment().get_template("drift-report.html.j2")
    html = template.render(doc=document, run=document["run"], summary=document["summary"],
                           groups=group_findings(findings), errors=document.get("errors", ()), fold_at=FOLD_AT)
    return redactor.redact(html)


def write_drift_report(path: Path, document: Mapping[str, Any], *, redactor: Redactor) -> Path:
    """Render and write the report; returns its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_drift_report(document, redactor=redactor), encoding="utf-8")
    return path
