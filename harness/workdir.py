"""An isolated Terraform working directory per instance, so instances never share `.terraform/`.

`prepare(instance, root)` keeps `<root>/<component>@<stack>/` in sync with the component folder
(changed files copied, removed ones deleted; `.terraform/` and local state left alone) and writes
what Atmos would generate:

* `backend.tf.json`: the resolved backend (`terraform.backend.<type>` of the stack config). With
  `aws_endpoint_url` set (moto, LocalStack) an S3 backend also gets `endpoints = {s3, dynamodb}`,
  `use_path_style` and the skips of credential, account, region and metadata checks, so Terraform
  talks to that endpoint only (see docs/state-and-locks.md);
* `<stack>-<component>.terraform.tfvars.json`: the resolved vars.

Example: two instances `app@dev` and `app@prod` of one component get `work/app@dev/` and
`work/app@prod/`, each with its own backend key, workspace, vars and `.terraform/`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.stacks.model import ComponentInstance

BACKEND_FILE = "backend.tf.json"
INIT_MARKER = ".terraform/stackharness-init.sha256"   # digest of the configuration last initialised
LOCK_FILE = ".terraform.lock.hcl"
_NEVER_SYNCED = {".terraform", "terraform.tfstate.d"}
_LOCAL_STATE = (".tfstate", ".tfstate.backup")


class WorkdirError(HarnessError):
    """The working directory of an instance cannot be prepared (missing component folder, ...)."""


@dataclass(frozen=True)
class Workdir:
    """A prepared working directory; `digest` is its configuration as prepared, before Terraform ran."""

    path: Path
    vars_file: Path
    backend_file: Path | None
    digest: str

    def needs_init(self) -> bool:
        marker = self.path / INIT_MARKER
        return not marker.is_file() or marker.read_text().strip() != self.digest

    def mark_initialised(self) -> None:
        """Record the digest taken when the directory was prepared (not after init: init writes files)."""
        marker = self.path / INIT_MARKER
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(self.digest + "\n")


def config_digest(path: Path, *, lock_file: bool) -> str:
    """A digest of the Terraform configuration in `path`: every .tf/.tf.json, and the lock file when
    `lock_file` (the component has one). When it differs from the last `terraform init`, init runs again.

    A lock file the component does not have is Terraform's own output (init writes it): left out, so
    init writing or updating it never makes the next run initialise again.
    """
    digest = hashlib.sha256()
    for file in sorted(path.rglob("*")):
        relative = file.relative_to(path)
        if relative.parts[0] in _NEVER_SYNCED or not file.is_file():
            continue
        if file.name.endswith((".tf", ".tf.json")) or (lock_file and str(relative) == LOCK_FILE):
            digest.update(str(relative).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def vars_file_name(instance: ComponentInstance) -> str:
    """The var file's name, as Atmos names it."""
    return f"{instance.stack}-{instance.component}.terraform.tfvars.json"


def backend_config(instance: ComponentInstance, endpoint_url: str | None = None) -> dict[str, Any] | None:
    """The `backend.tf.json` document of an instance (None when it has no backend)."""
    if not instance.backend_type:
        return None
    settings: dict[str, Any] = dict(instance.backend)
    if endpoint_url and instance.backend_type == "s3":
        settings.update({
            "endpoints": {"s3": endpoint_url, "dynamodb": endpoint_url},
            "use_path_style": True,
            "skip_credentials_validation": True,
            "skip_requesting_account_id": True,
            "skip_region_validation": True,
            "skip_metadata_api_check": True,
        })
    return {"terraform": {"backend": {instance.backend_type: settings}}}


def prepare(instance: ComponentInstance, root: Path, *, endpoint_url: str | None = None) -> Workdir:
    """Sync the instance's working directory under `root` and write its backend and var files."""
    source = Path(instance.component_path) if instance.component_path else None
    if source is None or not source.is_dir():
        raise WorkdirError(f"{instance.id}: component folder {source or instance.terraform_component} does not exist",
                           where=instance.stack_file,
                           hint="check `metadata.component` and components.terraform.base_path in atmos.yaml")
    target = root / instance.id
    generated = {BACKEND_FILE, vars_file_name(instance)}
    own_lock = (source / LOCK_FILE).is_file()
    if not own_lock:
        generated.add(LOCK_FILE)        # keep the one `terraform init` wrote: without it, init must run again
    sync_tree(source, target, keep=generated)
    backend = backend_config(instance, endpoint_url)
    backend_file = None
    if backend is not None:
        backend_file = target / BACKEND_FILE
        _write_if_changed(backend_file, json.dumps(backend, indent=2, sort_keys=True) + "\n")
    vars_file = target / vars_file_name(instance)
    _write_if_changed(vars_file, json.dumps(dict(instance.vars), indent=2, sort_keys=True, default=str) + "\n")
    return Workdir(target, vars_file, backend_file, config_digest(target, lock_file=own_lock))


def sync_tree(source: Path, target: Path, *, keep: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """Make `target` hold what `source` holds: changed files copied, files gone from `source`
    deleted. `.terraform/`, local state files and the top-level names in `keep` are left alone."""
    target.mkdir(parents=True, exist_ok=True)
    wanted: set[Path] = set()
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if _left_alone(relative, keep):
            continue
        wanted.add(relative)
        destination = target / relative
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
        elif not destination.is_file() or path.read_bytes() != destination.read_bytes():
            # (content only: filecmp caches by size and mtime, which can miss a same-size edit)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
    for path in sorted(target.rglob("*"), reverse=True):   # children before their folders
        relative = path.relative_to(target)
        if _left_alone(relative, keep) or relative in wanted:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


def _left_alone(relative: Path, keep: set[str]) -> bool:
    top = relative.parts[0]
    return top in _NEVER_SYNCED or (len(relative.parts) == 1 and top in keep) or top.endswith(_LOCAL_STATE)


def _write_if_changed(path: Path, text: str) -> None:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
