"""`--stacks-source atmos`: ask the real `atmos` binary instead of resolving natively.

Runs `atmos describe stacks --format json` in the repository folder and turns its output into the same
`StackSet` (dependencies, state keys, location and environment type are attached by the same code as
the native path). Useful where a repository needs what the native resolver leaves out (Sprig and
Gomplate templates, `!terraform.output`, `!store`, ...): Atmos evaluates them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.config import HarnessConfig
from harness.errors import StackError
from harness.stacks.atmos_config import AtmosConfig, find_atmos_config, load_atmos_config
from harness.stacks.model import ResolutionProblem, StackSet
from harness.stacks.naming import s3_state_key
from harness.stacks.resolve import Draft

OUR_KEY = "stackharness"
TIMEOUT_SECONDS = 600


def run_atmos_describe(repo: Path, binary: str | None = None) -> Mapping[str, Any]:
    """The parsed JSON of `atmos describe stacks --format json`, run in `repo`."""
    executable = binary or "atmos"
    resolved = shutil.which(executable)
    if resolved is None:
        raise StackError(f"the atmos binary {executable!r} was not found on PATH", where=repo,
                         hint="install atmos, or drop --stacks-source atmos to resolve natively")
    try:
        done = subprocess.run([resolved, "describe", "stacks", "--format", "json"], cwd=repo,
                              capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise StackError(f"atmos describe stacks did not finish within {TIMEOUT_SECONDS} s", where=repo,
                         hint="run it by hand to see why, or resolve natively") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise StackError(f"atmos describe stacks failed (exit {done.returncode}): "
                         + (detail[-1] if detail else "no output"), where=repo,
                         hint="run `atmos describe stacks` in the repository to see the full error")
    try:
        data = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise StackError(f"atmos describe stacks printed invalid JSON ({exc.msg} at line {exc.lineno})",
                         where=repo, hint="check that this atmos supports --format json") from None
    if not isinstance(data, dict):
        raise StackError("atmos describe stacks did not print a JSON object", where=repo)
    return data


def drafts_from_describe(data: Mapping[str, Any], atmos: AtmosConfig | None,
                         problems: list[ResolutionProblem]) -> list[Draft]:
    """Drafts from `describe stacks` output (our own `stackharness:` additions are ignored)."""
    drafts = []
    for stack, body in sorted(data.items()):
        components = body.get("components") if isinstance(body, dict) else None
        if not isinstance(components, dict):
            problems.append(ResolutionProblem(f"atmos output for stack {stack!r} has no components map",
                                              severity="warning"))
            continue
        for kind, typed in sorted(components.items()):
            if not isinstance(typed, dict):
                continue
            for name, section in sorted(typed.items()):
                if not isinstance(section, dict):
                    problems.append(ResolutionProblem(f"atmos output for {name}@{stack} is not a mapping"))
                    continue
                drafts.append(_draft(str(stack), str(kind), str(name), section, atmos))
    return drafts


def _draft(stack: str, kind: str, name: str, section: dict[str, Any], atmos: AtmosConfig | None) -> Draft:
    section = {k: v for k, v in section.items() if k != OUR_KEY}
    stack_file = str(section.get("atmos_stack_file") or section.get("atmos_manifest") or stack)
    folder = str(section.get("component") or name)
    info = section.get("component_info") if isinstance(section.get("component_info"), dict) else {}
    manifest = Path(stack_file)
    component_path = folder
    if atmos is not None:
        manifest = _manifest_path(atmos, stack_file)
        base = atmos.component_base_paths.get(kind)
        if base is not None:
            component_path = str((base / folder).resolve())
    elif info.get("component_path"):
        component_path = str(info["component_path"])
    state_key = None
    if kind == "terraform" and section.get("backend_type") == "s3":
        state_key = s3_state_key(section.get("backend") or {}, str(section.get("workspace") or "default"))
    return Draft(component=name, kind=kind, stack=stack, stack_file=stack_file, manifest=manifest,
                 section=section, terraform_component=folder, component_path=component_path,
                 state_key=state_key, files=(str(manifest),), imports=frozenset(section.get("imports") or ()))


def _manifest_path(atmos: AtmosConfig, stack_file: str) -> Path:
    for ext in (".yaml", ".yml"):
        candidate = atmos.stacks_base_path / (stack_file + ext)
        if candidate.is_file():
            return candidate
    return atmos.stacks_base_path / (stack_file + ".yaml")


def load_from_atmos(repo: Path, config: HarnessConfig, binary: str | None = None) -> StackSet:
    """The `StackSet` Atmos itself resolves for `repo`."""
    from harness.stacks.loader import assemble_instances

    atmos = load_atmos_config(repo) if find_atmos_config(repo) else None
    data = run_atmos_describe(repo, binary)
    problems: list[ResolutionProblem] = []
    drafts = drafts_from_describe(data, atmos, problems)
    instances = assemble_instances(drafts, config, problems)
    return StackSet(repo=str(repo), instances=tuple(instances), problems=tuple(problems))
