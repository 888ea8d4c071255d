"""What-if analysis: what a change does to the dependency graph and to the work.

A change set names changed instances, changed files (catalog manifests or Terraform code), a base
version of the repository to compare against (a folder or a git ref), and hypothetical dependency
edges to add or remove. The answer lists each affected instance with its reasons, their
transitive dependents, the batches before and after, the instances whose batch moved, new and
removed cycles and the critical path before and after.

Example: with `vpc@dev -> subnet@dev -> app@dev`, changing `stacks/catalog/vpc.yaml` (imported by
vpc@dev only) gives affected `vpc@dev` ("file stacks/catalog/vpc.yaml"), dependents
`[subnet@dev, app@dev]`, identical batches and no moves.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, UsageError
from harness.graph import DependencyGraph, Edge
from harness.stacks.atmos_config import CONFIG_NAMES
from harness.stacks.model import ComponentInstance, StackSet

# The sections compared against a base, in the order Atmos reports them (`affected` is the first).
SECTIONS = ("metadata", "component", "vars", "env", "settings", "backend", "providers")
_IGNORED_DIRS = {".terraform", ".git", "__pycache__"}


class GitRefError(HarnessError):
    """A git ref that cannot be checked out for comparison."""


@dataclass(frozen=True, order=True)
class Reason:
    """Why an instance is affected: `kind` is one of changed, file, folder, section, component,
    added, removed, dependency-added, dependency-removed; `detail` says which file, section or id."""

    kind: str
    detail: str = ""

    def __str__(self) -> str:
        labels = {"changed": "named with --changed", "file": "file", "folder": "folder", "section": "section",
                  "component": "component folder", "added": "added", "removed": "removed",
                  "dependency-added": "new dependency on", "dependency-removed": "dropped dependency on"}
        label = labels.get(self.kind, self.kind)
        return f"{label} {self.detail}" if self.detail else label

    @property
    def atmos(self) -> str | None:
        """The `affected` value `atmos describe affected` uses for this reason, when it has one."""
        if self.kind == "section":
            return f"stack.{self.detail}"
        return {"component": "component", "file": "file", "folder": "component"}.get(self.kind)


@dataclass(frozen=True)
class ChangeSet:
    """The question: which instances and files changed, which edges to add or remove."""

    instances: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    add_dependencies: tuple[Edge, ...] = ()       # (dependency, dependent)
    remove_dependencies: tuple[Edge, ...] = ()


@dataclass(frozen=True)
class Move:
    id: str
    before: int | None
    after: int | None


@dataclass(frozen=True)
class WhatIf:
    """The answer. `affected` holds the changed instances; `dependents` their transitive dependents
    that are not themselves affected."""

    affected: Mapping[str, tuple[Reason, ...]]
    dependents: tuple[str, ...]
    before: DependencyGraph
    after: DependencyGraph
    moved: tuple[Move, ...]
    new_cycles: tuple[tuple[str, ...], ...]
    removed_cycles: tuple[tuple[str, ...], ...]
    critical_path_before: tuple[str, ...]
    critical_path_after: tuple[str, ...]
    critical_path_length_before: float
    critical_path_length_after: float
    unmatched_files: tuple[str, ...] = field(default=())

    @property
    def creates_cycle(self) -> bool:
        return bool(self.new_cycles)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of `stackharness what-if --format json`."""
        return {
            "affected": [{"id": i, "reasons": [str(r) for r in rs]} for i, rs in self.affected.items()],
            "dependents": list(self.dependents),
            "batches_before": [list(b) for b in self.before.batches()],
            "batches_after": [list(b) for b in self.after.batches()],
            "moved": [{"id": m.id, "from": m.before, "to": m.after} for m in self.moved],
            "new_cycles": [list(c) for c in self.new_cycles],
            "removed_cycles": [list(c) for c in self.removed_cycles],
            "critical_path_before": list(self.critical_path_before),
            "critical_path_after": list(self.critical_path_after),
        }


# -- inputs ---------------------------------------------------------------------------------------
def parse_dependency_change(text: str) -> Edge:
    """`X@S=>Y@S` (Y depends on X) as the edge (X, Y)."""
    dependency, arrow, dependent = text.partition("=>")
    dependency, dependent = dependency.strip(), dependent.strip()
    if not arrow or "@" not in dependency or "@" not in dependent:
        raise UsageError(f"dependency change {text!r} is not of the form X@STACK=>Y@STACK",
                         hint="write `vpc@dev=>subnet@dev` for 'subnet@dev depends on vpc@dev'")
    return dependency, dependent


def affected_by_files(stackset: StackSet, files: Iterable[str | Path], *,
                      include: Callable[[ComponentInstance], bool] | None = None,
                      base: StackSet | None = None,
                      ) -> tuple[dict[str, list[Reason]], tuple[str, ...]]:
    """Instances whose resolved section takes something from one of `files`, or whose Terraform
    folder holds one.

    A manifest counts for an instance when it is in its `section_sources` (global sections, or a
    definition of the component or of one of its bases); without them (`--stacks-source atmos`), or
    for a file that no longer exists, when it is in its `sources` (the stack's whole import closure),
    looked up in `base` too when given (a file deleted since the base). atmos.yaml affects every
    instance. Relative paths are taken from the stacks repository (then from the current directory,
    when the file exists there). Returns the reasons per instance id and the files that matched nothing.
    """
    include = include or (lambda i: i.deployable)
    repo = Path(stackset.repo)
    wanted: dict[str, str] = {}          # normalised absolute path -> the path as given
    for given in files:
        for candidate in _candidates(Path(given), repo):
            wanted[candidate] = str(given)
    shown = {given: _display(given, repo) for given in wanted.values()}
    existing = {g for p, g in wanted.items() if os.path.exists(p)}
    present = {p: g for p, g in wanted.items() if g in existing}
    deleted = {p: g for p, g in wanted.items() if g not in existing}
    settings = {g for p, g in present.items() if _is_atmos_config(p, repo)}
    reasons: dict[str, list[Reason]] = {}
    matched: set[str] = set(settings)
    folders: dict[str, list[ComponentInstance]] = {}
    match = _Matcher(reasons, matched, shown)
    for instance in stackset:
        if not include(instance):
            continue
        for given in settings:
            reasons.setdefault(instance.id, []).append(Reason("file", shown[given]))
        precise = instance.section_sources
        match(instance.id, instance.sources if precise is None else precise, present)
        if deleted:
            match(instance.id, instance.sources, deleted)
        if instance.component_path:
            folders.setdefault(os.path.normpath(instance.component_path), []).append(instance)
    if deleted and base is not None:
        in_base = {_rebase(p, repo, Path(base.repo)): g for p, g in deleted.items()}
        for instance in base:
            if include(instance):
                match(instance.id, instance.sources, in_base)
    for folder, members in folders.items():
        prefix = folder + os.sep
        for path, given in wanted.items():
            if path.startswith(prefix):
                matched.add(given)
                for instance in members:
                    reasons.setdefault(instance.id, []).append(Reason("folder", shown[given]))
    unmatched = tuple(sorted({g for g in wanted.values()} - matched))
    return {k: sorted(set(v)) for k, v in reasons.items()}, unmatched


class _Matcher:
    """Adds a `file` reason for each of an instance's sources that is a wanted file."""

    def __init__(self, reasons: dict[str, list[Reason]], matched: set[str], shown: Mapping[str, str]) -> None:
        self.reasons, self.matched, self.shown = reasons, matched, shown
        self.normalised: dict[str, str] = {}   # sources repeat across instances: normalise each once

    def __call__(self, instance_id: str, sources: Iterable[str], wanted: Mapping[str, str]) -> None:
        for source in sources:
            path = self.normalised.get(source)
            if path is None:
                path = self.normalised[source] = os.path.normpath(source)
            given = wanted.get(path)
            if given is not None:
                self.reasons.setdefault(instance_id, []).append(Reason("file", self.shown[given]))
                self.matched.add(given)


def _is_atmos_config(path: str, repo: Path) -> bool:
    return (os.path.basename(path) in CONFIG_NAMES
            and os.path.dirname(path) in {os.path.normpath(repo), os.path.realpath(repo)})


def _rebase(path: str, repo: Path, other: Path) -> str:
    """`path` under `repo` as the same relative path under `other` (unchanged when outside `repo`)."""
    for root in (os.path.normpath(repo), os.path.realpath(repo)):
        if path.startswith(root + os.sep):
            return os.path.normpath(os.path.join(other, os.path.relpath(path, root)))
    return path


def _candidates(path: Path, repo: Path) -> set[str]:
    if path.is_absolute():
        options = [path]
    else:
        options = [repo / path] + ([Path.cwd() / path] if (Path.cwd() / path).exists() else [])
    out = set()
    for option in options:
        out.add(os.path.normpath(os.path.abspath(option)))
        out.add(os.path.realpath(option))
    return out


def _display(given: str, repo: Path) -> str:
    path = Path(given)
    if path.is_absolute():
        try:
            return path.relative_to(repo.resolve()).as_posix()
        except ValueError:
            return given
    return path.as_posix()


def compare_stacksets(base: StackSet, current: StackSet, *,
                      include: Callable[[ComponentInstance], bool] | None = None,
                      ) -> dict[str, list[Reason]]:
    """Instances whose resolved sections differ between `base` and `current`, like `atmos describe
    affected`: one reason per changed section, in SECTIONS order; `added` / `removed` for instances
    present on one side only. Run it while both trees exist: component folders are hashed lazily.
    """
    include = include or (lambda i: i.deployable)
    digests: dict[str, str] = {}
    reasons: dict[str, list[Reason]] = {}
    ids = sorted({i.id for i in base if include(i)} | {i.id for i in current if include(i)})
    for instance_id in ids:
        old, new = base.get(instance_id), current.get(instance_id)
        old = old if old is not None and include(old) else None
        new = new if new is not None and include(new) else None
        if old is None or new is None:
            reasons[instance_id] = [Reason("added" if old is None else "removed")]
            continue
        found = [Reason("section", s) if s != "component" else Reason("component", new.terraform_component)
                 for s in SECTIONS if _section_differs(s, old, new, digests)]
        if found:
            reasons[instance_id] = found
    return reasons


def _section_differs(section: str, old: ComponentInstance, new: ComponentInstance,
                     digests: dict[str, str]) -> bool:
    if section == "component":
        if old.terraform_component != new.terraform_component:
            return True
        if old.component_path and new.component_path:
            return _folder_digest(old.component_path, digests) != _folder_digest(new.component_path, digests)
        return False
    if section == "backend":
        return (old.backend_type, old.backend) != (new.backend_type, new.backend)
    return getattr(old, section) != getattr(new, section)


def _folder_digest(folder: str, cache: dict[str, str]) -> str:
    """A hash of every file's relative path and bytes under `folder` (Terraform caches skipped)."""
    if folder in cache:
        return cache[folder]
    digest = hashlib.sha256()
    root = Path(folder)
    if root.is_dir():
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in _IGNORED_DIRS)
            for name in sorted(filenames):
                path = Path(dirpath, name)
                digest.update(path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    else:
        digest.update(b"missing")
    cache[folder] = digest.hexdigest()
    return cache[folder]


@contextmanager
def checkout_ref(repo: str | Path, ref: str) -> Iterator[Path]:
    """The stacks repository as it is at git `ref`, extracted into a temporary folder (`git archive`).

    Yields the folder that corresponds to `repo` inside that tree; the tree is removed afterwards.
    The repository itself is left untouched (no worktree, no checkout).
    """
    repo = Path(repo).resolve()
    top = _git(repo, "rev-parse", "--show-toplevel").strip()
    commit = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", what=ref).strip()
    inside = repo.relative_to(Path(top).resolve())
    with tempfile.TemporaryDirectory(prefix="stackharness-ref-") as tmp:
        with subprocess.Popen(["git", "-C", top, "archive", "--format=tar", commit],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
            assert proc.stdout is not None
            with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
                archive.extractall(tmp, filter="data")
            error = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.returncode:
            raise GitRefError(f"git archive {ref} failed: {error.strip()}", where=top)
        yield Path(tmp) / inside


def _git(repo: Path, *args: str, what: str | None = None) -> str:
    try:
        proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise GitRefError("git is not installed", hint="install git or compare with --base-dir") from exc
    if proc.returncode:
        if what is not None:
            raise GitRefError(f"{what!r} is not a commit, branch or tag of this repository", where=repo,
                              hint="check the name with `git log --oneline` or fetch it first")
        raise GitRefError(f"{repo} is not inside a git repository ({proc.stderr.strip()})", where=repo,
                          hint="use --base-dir to compare against a folder instead")
    return proc.stdout


# -- analysis -------------------------------------------------------------------------------------
def what_if(stackset: StackSet, changes: ChangeSet = ChangeSet(), *, base: StackSet | None = None,
            graph: DependencyGraph | None = None, base_graph: DependencyGraph | None = None,
            weights: Mapping[str, float] | None = None,
            include: Callable[[ComponentInstance], bool] | None = None) -> WhatIf:
    """Answer a what-if question about `stackset`.

    `graph` (the graph of `stackset`) and `base_graph` may be passed in when already built. With a
    `base`, "before" is the base's graph, otherwise the current one; "after" is the current graph
    with the hypothetical edges applied. Dependents are looked up in "after" (in "before" for
    instances that no longer exist).
    """
    current = graph or DependencyGraph.build(stackset, include=include)
    before = current if base is None else (base_graph or DependencyGraph.build(base, include=include))
    edits = bool(changes.add_dependencies or changes.remove_dependencies)
    after = current.with_changes(changes.add_dependencies, changes.remove_dependencies) if edits else current

    reasons: dict[str, list[Reason]] = {}
    for instance in changes.instances:
        if instance not in after and instance not in before:
            after.node(instance)   # raises GraphError with a did-you-mean hint
        reasons.setdefault(instance, []).append(Reason("changed"))
    unmatched: tuple[str, ...] = ()
    if changes.files:
        by_file, unmatched = affected_by_files(stackset, changes.files, include=include, base=base)
        _merge(reasons, by_file)
    if base is not None:
        _merge(reasons, compare_stacksets(base, stackset, include=include))
    for dependency, dependent in changes.add_dependencies:
        reasons.setdefault(dependent, []).append(Reason("dependency-added", dependency))
    for dependency, dependent in changes.remove_dependencies:
        reasons.setdefault(dependent, []).append(Reason("dependency-removed", dependency))

    affected = {i: tuple(dict.fromkeys(reasons[i])) for i in sorted(reasons)}
    downstream: set[str] = set()
    in_after = [i for i in affected if i in after]
    if in_after:
        downstream.update(after.closure(in_after, include_dependencies=False, include_dependents=True))
    for gone in (i for i in affected if i not in after and i in before):
        downstream.update(d for d in before.dependents(gone, transitive=True) if d in after)
    dependents = tuple(sorted(downstream - set(affected)))

    moved = ()
    if after is not before:
        old, new = before.batch_numbers, after.batch_numbers
        moved = tuple(Move(i, old.get(i), new.get(i)) for i in after.nodes
                      if i in before and old.get(i) != new.get(i))
    old_cycles, new_cycles = set(before.cycles), set(after.cycles)
    path_before, length_before = before.critical_path(weights), before.critical_path_length(weights)
    path_after, length_after = ((path_before, length_before) if after is before else
                                (after.critical_path(weights), after.critical_path_length(weights)))
    return WhatIf(
        affected=affected, dependents=dependents, before=before, after=after, moved=moved,
        new_cycles=tuple(c for c in after.cycles if c not in old_cycles),
        removed_cycles=tuple(c for c in before.cycles if c not in new_cycles),
        critical_path_before=path_before, critical_path_after=path_after,
        critical_path_length_before=length_before, critical_path_length_after=length_after,
        unmatched_files=unmatched,
    )


def _merge(into: dict[str, list[Reason]], more: Mapping[str, Iterable[Reason]]) -> None:
    for instance, reasons in more.items():
        into.setdefault(instance, []).extend(reasons)
