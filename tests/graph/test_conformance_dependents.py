"""`describe dependents` against the answers Atmos itself gives (shared conformance goldens).

The folder is `$STACKHARNESS_CONFORMANCE_DIR`, else `<repo root>/../shared/conformance/atmos`, else
`/work/shared/conformance/atmos`; the tests skip with the reason when none exists. Comparison rules
from its README: order-agnostic lists, and null, missing, {}, [] and "" are the same.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from harness.graph_describe import AtmosDescriber
from harness.stacks import load

_CANDIDATES = [Path(p) for p in (os.environ.get("STACKHARNESS_CONFORMANCE_DIR"),) if p] + [
    Path(__file__).resolve().parents[2].parent / "shared/conformance/atmos",
    Path("/work/shared/conformance/atmos"),
]
CONFORMANCE = next((p for p in _CANDIDATES if (p / "golden").is_dir()), None)
GOLDENS = sorted((CONFORMANCE / "golden").glob("describe-dependents.*.json")) if CONFORMANCE else []


def _cases() -> list[Any]:
    if not GOLDENS:
        return [pytest.param(None, None, marks=pytest.mark.skip(
            reason="Atmos conformance fixtures not found (set STACKHARNESS_CONFORMANCE_DIR)"))]
    out = []
    for golden in GOLDENS:
        data = json.loads(golden.read_text())
        for case in data["cases"]:
            name = f"{golden.stem.split('.', 1)[1]}:{case['component']}@{case['stack']}"
            out.append(pytest.param(data["fixture"], case, id=name))
    return out


def _normal(value: Any) -> Any:
    """Empty values dropped, dict keys kept as is, lists of dependents sorted by stack_slug."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        items = [_normal(v) for v in value]
        return sorted(items, key=lambda e: json.dumps(e, sort_keys=True))
    return value


@pytest.fixture(scope="module")
def describers() -> dict[str, AtmosDescriber]:
    return {}


@pytest.mark.parametrize(("fixture", "case"), _cases())
def test_describe_dependents_matches_atmos(fixture, case, describers):
    if fixture not in describers:
        describers[fixture] = AtmosDescriber(load(CONFORMANCE / fixture))
    got = describers[fixture].dependents(case["component"], case["stack"])
    assert _normal(got) == _normal(case["expected"])
    slugs = [entry["stack_slug"] for entry in got]
    assert slugs == sorted(slugs)     # Atmos sorts by stack_slug


@pytest.mark.skipif(CONFORMANCE is None, reason="Atmos conformance fixtures not found")
def test_describe_dependents_command_on_a_fixture_with_missing_dependencies(capsys):
    from harness.cli import main

    fixture = CONFORMANCE / "tests/fixtures/scenarios/dependencies-components-inheritance"
    golden = json.loads((CONFORMANCE / "golden/describe-dependents.dependencies-components-inheritance.json")
                        .read_text())
    [case] = [c for c in golden["cases"] if c["component"] == "vpc"]
    # vpc@dev depends on components that do not exist: as in Atmos, that does not break the command.
    code = main(["describe", "dependents", "vpc", "-s", "dev", "--format", "json",
                 "--stacks-repo", str(fixture)])
    out, _ = capsys.readouterr()
    assert code == 0
    assert _normal(json.loads(out)) == _normal(case["expected"])
