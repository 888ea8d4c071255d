"""`--stacks-source atmos`.

There is no atmos binary on this machine, so the real part is replaced by a tiny executable named
`atmos` on PATH that prints `describe stacks --format json` output produced by our own
`stackharness describe stacks --format json` on the same repository (a fake, and the only one here).
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.config import EnvironmentRules, HarnessConfig
from harness.errors import StackError
from harness.stacks import load

ATMOS = ('base_path: "."\ncomponents:\n  terraform:\n    base_path: components/terraform\n'
         'stacks:\n  base_path: stacks\n  included_paths: ["deploy/**/*"]\n'
         '  name_pattern: "{tenant}-{stage}"\n')
REPO = {
    "stacks/catalog/vpc.yaml": """
        components:
          terraform:
            vpc/base: {metadata: {type: abstract, component: vpc}, vars: {cidr: 10.0.0.0/16}}
            vpc: {metadata: {component: vpc, inherits: [vpc/base]}}
    """,
    "stacks/deploy/dev.yaml": """
        import: [catalog/vpc]
        vars: {tenant: core, stage: dev, region: eu-west-1}
        terraform: {backend_type: s3, backend: {s3: {bucket: tf, key: terraform.tfstate}}}
        components:
          terraform:
            app: {settings: {depends_on: {1: {component: vpc}}}}
            dr: {metadata: {component: vpc}}
    """,
}


def fake_atmos(bin_dir: Path, stdout: str, exit_code: int = 0, stderr: str = "") -> None:
    """An executable `atmos` that checks its arguments and prints canned output."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    (bin_dir / "out.json").write_text(stdout)
    script = bin_dir / "atmos"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys, pathlib\n"
        "if sys.argv[1:] != ['describe', 'stacks', '--format', 'json']:\n"
        "    print('unexpected arguments', sys.argv[1:], file=sys.stderr); sys.exit(3)\n"
        f"sys.stderr.write({stderr!r})\n"
        f"sys.stdout.write(pathlib.Path({str(bin_dir / 'out.json')!r}).read_text())\n"
        f"sys.exit({exit_code})\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def on_path(tmp_path, monkeypatch) -> Path:
    bin_dir = tmp_path / "bin"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir


def test_adapter_gives_the_same_instances_as_native_resolution(make_repo, on_path, capsys, tmp_path):
    repo = make_repo(REPO, ATMOS)
    assert main(["describe", "stacks", "--format", "json", "--stacks-repo", str(repo)]) == 0
    fake_atmos(on_path, capsys.readouterr().out)
    rules = EnvironmentRules(stacks={"core-*": "dev"})
    native = load(repo, HarnessConfig(stacks_repo=repo, environments=rules))
    via_atmos = load(repo, HarnessConfig(stacks_repo=repo, environments=rules, stacks_source="atmos"))
    assert [i.id for i in via_atmos] == [i.id for i in native]
    for ours, theirs in zip(native, via_atmos, strict=True):
        assert theirs.section == json.loads(json.dumps(ours.section))
        assert (theirs.state_key, theirs.dependencies, theirs.environment_type, theirs.region,
                theirs.terraform_component, theirs.component_path, theirs.deployable, theirs.stack_file) == (
            ours.state_key, ours.dependencies, ours.environment_type, ours.region,
            ours.terraform_component, ours.component_path, ours.deployable, ours.stack_file)
    assert via_atmos.get("dr@core-dev").state_key == "vpc/core-dev-dr/terraform.tfstate"


def test_cli_stacks_source_atmos(make_repo, on_path, capsys):
    repo = make_repo(REPO, ATMOS)
    fake_atmos(on_path, json.dumps({"x-y": {"components": {"terraform": {"only": {"vars": {"a": 1}}}}}}))
    assert main(["list", "stacks", "--stacks-source", "atmos", "--stacks-repo", str(repo)]) == 0
    assert capsys.readouterr().out == "x-y\n"


def test_missing_failing_or_garbled_atmos_is_a_stack_error(make_repo, on_path, monkeypatch):
    repo = make_repo(REPO, ATMOS)
    config = HarnessConfig(stacks_repo=repo, stacks_source="atmos")
    monkeypatch.setenv("PATH", str(on_path))
    with pytest.raises(StackError, match="not found on PATH"):
        load(repo, config)
    fake_atmos(on_path, "", exit_code=1, stderr="first line\nError: invalid stack manifest\n")
    with pytest.raises(StackError, match=r"exit 1.*invalid stack manifest"):
        load(repo, config)
    fake_atmos(on_path, "{not json")
    with pytest.raises(StackError, match="invalid JSON"):
        load(repo, config)
