"""Conformance with real Atmos: the fixtures and expected outputs in shared/conformance/atmos.

The folder is found from `STACKHARNESS_CONFORMANCE_DIR`, else `<repo root>/../shared/conformance/atmos`,
else `/work/shared/conformance/atmos`; the tests skip with the reason when none exists. Comparison rules
follow its README: only merge-relevant fields; null, missing, {}, [] and "" are the same; order is
ignored where Atmos sorts (stacks, imports, dependents).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main as cli_main
from harness.stacks import StackSet, load

_ENV = "STACKHARNESS_CONFORMANCE_DIR"   # read at import: the session fixture clears STACKHARNESS_*


def _find_conformance() -> Path | None:
    repo_root = Path(__file__).resolve().parents[2]
    candidates = [os.environ.get(_ENV), repo_root.parent / "shared/conformance/atmos",
                  "/work/shared/conformance/atmos"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "README.md").is_file():
            return Path(candidate)
    return None


ROOT = _find_conformance()
pytestmark = pytest.mark.skipif(ROOT is None, reason=f"Atmos conformance fixtures not found (set {_ENV}, "
                                "or place them at ../shared/conformance/atmos)")
FIELDS = ("vars", "settings", "env", "backend", "backend_type", "remote_state_backend",
          "remote_state_backend_type", "metadata", "inheritance", "component", "overrides", "providers",
          "workspace")


def scenario(name: str) -> Path:
    assert ROOT is not None
    return ROOT / "tests/fixtures/scenarios" / name


def golden(name: str) -> dict[str, Any]:
    assert ROOT is not None
    return json.loads((ROOT / "golden" / name).read_text())


def normalise(value: Any) -> Any:
    """null, missing, {}, [] and "" compare equal (README rule)."""
    if isinstance(value, dict):
        items = {k: normalise(v) for k, v in value.items()}
        return {k: v for k, v in items.items() if v is not None} or None
    if isinstance(value, list):
        return [normalise(v) for v in value] or None
    return None if value == "" else value


def dotted(section: Any, path: str) -> Any:
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            index = int(part[1:-1])
            section = section[index] if isinstance(section, list) and index < len(section) else None
        else:
            section = section.get(part) if isinstance(section, dict) else None
    return section


@pytest.fixture(scope="module")
def loaded() -> dict[str, StackSet]:
    return {}


def stack_set(loaded: dict[str, StackSet], name: str) -> StackSet:
    if name not in loaded:
        loaded[name] = load(scenario(name))
    return loaded[name]


# -- case 1: relative-paths ---------------------------------------------------------------------------

def test_relative_paths_describe_stacks_matches_golden(loaded):
    expected = golden("describe-stacks.relative-paths.json")["expected"]
    stacks = stack_set(loaded, "relative-paths")
    assert stacks.errors == ()
    assert set(stacks.stacks) == set(expected)
    for stack, body in expected.items():
        for name, want in body["components"]["terraform"].items():
            got = stacks.get(f"{name}@{stack}")
            assert got is not None, f"{name}@{stack} missing"
            for field in FIELDS:
                assert normalise(got.section.get(field)) == normalise(want.get(field)), (stack, name, field)


def test_relative_paths_cli_describe_stacks_yaml_matches_snapshot(capsys):
    import yaml
    assert ROOT is not None
    snapshot = yaml.safe_load((ROOT / "tests/snapshots/TestCLICommands_atmos_stacks_with_relative_paths"
                               ".stdout.golden").read_text())
    code = cli_main(["describe", "stacks", "--stacks-repo", str(scenario("relative-paths"))])
    assert code == 0
    output = yaml.safe_load(capsys.readouterr().out)
    assert set(output) == set(snapshot)
    for stack, body in snapshot.items():
        for name, want in body["components"]["terraform"].items():
            got = output[stack]["components"]["terraform"][name]
            for field in (*FIELDS, "atmos_component", "atmos_manifest", "atmos_stack", "atmos_stack_file",
                          "stack", "component_info"):
                assert normalise(got.get(field)) == normalise(want.get(field)), (stack, name, field)
            assert got["stackharness"]["id"] == f"{name}@{stack}"


# -- case 5: provenance ---------------------------------------------------------------------------------

def test_provenance_list_stacks_matches_snapshot(capsys):
    assert ROOT is not None
    expected = (ROOT / "tests/snapshots/TestCLICommands_list_stacks_works.stdout.golden").read_text().split()
    assert cli_main(["list", "stacks", "--stacks-repo", str(scenario("provenance"))]) == 0
    assert capsys.readouterr().out.split() == expected


def test_provenance_describe_component_matches_golden(capsys):
    expected = golden("describe-component.provenance.json")["expected"]
    code = cli_main(["describe", "component", "mock", "-s", "acme-dev-us-east-1", "--format", "json",
                     "--stacks-repo", str(scenario("provenance"))])
    assert code == 0
    got = json.loads(capsys.readouterr().out)
    for field in FIELDS:
        assert normalise(got.get(field)) == normalise(expected.get(field)), field
    assert sorted(got["imports"]) == ["catalog/mock/defaults", "mixins/stage/dev", "orgs/acme/_defaults"]


# -- case 7: complete -------------------------------------------------------------------------------------

def _by_stack_file(stacks: StackSet, stack_file: str, kind: str, component: str) -> Any:
    found = [i for i in stacks if i.stack_file == stack_file and i.component_type == kind
             and i.component == component]
    assert found, f"{component} ({kind}) not resolved for {stack_file}"
    return found[0]


def test_complete_stack_processor_golden(loaded):
    expected = golden("stack-processor.complete.json")["expected"]
    stacks = stack_set(loaded, "complete")
    for stack_file in expected["stack_files"]:
        assert any(i.stack_file == stack_file for i in stacks), f"{stack_file} resolved nothing"
        body = expected.get(stack_file)
        if not body:
            continue
        instances = [i for i in stacks if i.stack_file == stack_file]
        imports = instances[0].imports
        assert len(imports) == body["imports_count"]
        for index, key in body["imports_by_index"].items():
            assert imports[int(index)] == key
        for kind in ("terraform", "helmfile"):
            for component, checks in body.get(f"components.{kind}", {}).items():
                section = _by_stack_file(stacks, stack_file, kind, component).section
                for path, want in checks.items():
                    assert normalise(dotted(section, path)) == normalise(want), (component, path)


# Values of the backward-compatibility snapshot that need more than the supported subset: Sprig or
# Gomplate functions (`env`, `default`, `strings.Title`, `strings.Quote`) and a raw-string template
# (`{{`...`}}`). They are left as written (with one warning each). Everything else must match.
SNAPSHOT_SKIPPED = {"vars.tags.atmos_component", "vars.tags.provisioned_by_user",
                    "vars.tags.atmos_component_description"}


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_leaves(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def test_complete_describe_component_snapshot_except_unsupported_templates(loaded):
    import yaml
    assert ROOT is not None
    text = (ROOT / "tests/snapshots/TestCLICommands_describe_component_with_component_name_"
            "(backward_compatibility).stdout.golden").read_text()
    snapshot = yaml.safe_load(text)
    stacks = stack_set(loaded, "complete")
    got = stacks.get("top-level-component1@tenant1-ue2-dev")
    assert got is not None
    assert sorted(got.imports) == sorted(snapshot["import"])
    for section in ("vars", "settings", "providers"):
        want = _leaves(snapshot[section], section)
        have = _leaves(json.loads(json.dumps(got.section[section], default=str)), section)
        for path, value in want.items():
            if path in SNAPSHOT_SKIPPED:
                continue
            have_value = have.get(path)
            if isinstance(value, dict) and not value:
                continue
            assert normalise(have_value) == normalise(value), path


# -- cases 8 and 10: dependents ------------------------------------------------------------------------

def _dependents(stacks: StackSet, component: str, stack: str) -> list[dict[str, Any]]:
    target = f"{component}@{stack}"
    rows = []
    for instance in stacks:
        if target in instance.dependencies:
            row = {"component": instance.component, "component_type": instance.component_type,
                   "component_path": instance.section["component_info"]["component_path"],
                   "stack": instance.stack,
                   "stack_slug": f"{instance.stack}-{instance.component}".replace("/", "-"),
                   "stage": instance.vars.get("stage")}
            if "environment" in instance.vars:
                row["environment"] = instance.vars["environment"]
            rows.append(row)
    return sorted(rows, key=lambda r: r["stack_slug"])


@pytest.mark.parametrize("case_file,scenario_name", [
    ("describe-dependents.depends-on-with-stacks-name-pattern.json", "depends-on-with-stacks-name-pattern"),
    ("describe-dependents.dependencies-components-inheritance.json", "dependencies-components-inheritance"),
])
def test_dependents_match_golden(loaded, case_file, scenario_name):
    stacks = stack_set(loaded, scenario_name)
    for case in golden(case_file)["cases"]:
        keys = ("component", "component_type", "component_path", "stack", "stack_slug", "stage",
                "environment")
        want = sorted(({k: row[k] for k in keys if k in row} for row in case["expected"]),
                      key=lambda r: r["stack_slug"])
        assert _dependents(stacks, case["component"], case["stack"]) == want, case


def test_missing_dependency_targets_are_errors_for_the_dependent_only(loaded):
    stacks = stack_set(loaded, "dependencies-components-inheritance")
    assert {p.instance for p in stacks.errors} == {"vpc@dev"}
    assert all(i.dependency_errors == () for i in stacks if i.id != "vpc@dev")
    assert len(stacks.get("vpc@dev").dependency_errors) == 2
