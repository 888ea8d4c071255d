"""`load(repo)`: an Atmos repository -> an immutable `StackSet`.

Bad input never stops the others: a manifest that cannot be parsed or imported, a component whose
inheritance or name cannot be resolved, a dependency that does not exist, each becomes a
`ResolutionProblem` for what it affects, and everything else still resolves. `load` raises
`StackError` only when nothing can be resolved at all (no atmos.yaml, no stack manifests).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from harness.config import HarnessConfig
from harness.errors import StackError
from harness.stacks.atmos_config import AtmosConfig, load_atmos_config
from harness.stacks.dependencies import NO_DEPENDENCIES, Candidate, DependencyIndex
from harness.stacks.environment import classify, locate
from harness.stacks.manifest import (
    ImportGraph,
    ManifestError,
    Node,
    discover_stack_files,
    stack_key,
)
from harness.stacks.model import ComponentInstance, ResolutionProblem, StackSet, instance_id
from harness.stacks.resolve import Draft, Issue, ManifestResolver
from harness.stacks.yaml_loader import ManifestParser, ParseIssue, line_of_key

log = logging.getLogger("harness.stacks")


def load(repo: str | Path, config: HarnessConfig | None = None) -> StackSet:
    """Resolve every component instance of the Atmos repository at `repo` (the folder of atmos.yaml).

    With `config.stacks_source == "atmos"` the real `atmos` binary is asked instead
    (`atmos describe stacks --format json`); the instances are the same model either way.
    """
    repo_path = Path(repo).expanduser().resolve()
    config = config or HarnessConfig(stacks_repo=repo_path)
    if config.stacks_source == "atmos":
        from harness.stacks.atmos_adapter import load_from_atmos
        return load_from_atmos(repo_path, config)
    atmos = load_atmos_config(repo_path)
    files = discover_stack_files(atmos)
    if not files:
        raise StackError(f"no stack manifests under {atmos.stacks_base_path} match stacks.included_paths "
                         f"{list(atmos.included_paths)}", where=atmos.path,
                         hint="check stacks.base_path, included_paths and excluded_paths in atmos.yaml")
    # Parsed manifests are acyclic trees; pausing the cyclic garbage collector while building millions
    # of small dicts saves its repeated scans of the growing heap (about a third of the run time on
    # large repositories). Reference counting still frees everything as usual.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _NativeLoad(atmos, config).run(files)
    finally:
        if paused:
            gc.enable()


class _NativeLoad:
    """One native resolution run: parse cache, import closures, inheritance memo, problems."""

    def __init__(self, atmos: AtmosConfig, config: HarnessConfig) -> None:
        self.atmos = atmos
        self.config = config
        self.parser = ManifestParser(include_roots=(atmos.stacks_base_path, atmos.base_path))
        self.graph = ImportGraph(atmos, self.parser)
        self.resolver = ManifestResolver(atmos)
        self.problems: list[ResolutionProblem] = []
        self._warned: set[Any] = set()

    def run(self, files: list[Path]) -> StackSet:
        drafts: list[Draft] = []
        for path in files:
            drafts.extend(self._manifest(path))
        drafts = self._drop_duplicates(drafts)
        instances = assemble_instances(drafts, self.config, self.problems)
        return StackSet(repo=str(self.atmos.root), instances=tuple(instances), problems=tuple(self.problems))

    # -- manifests -------------------------------------------------------------------------------
    def _manifest(self, path: Path) -> list[Draft]:
        key = stack_key(self.atmos, path)
        try:
            node = self.graph.node(path)
        except ManifestError as exc:
            cause = "" if len(exc.chain) < 2 else f" (imports {' -> '.join(exc.chain)})"
            self.problems.append(ResolutionProblem(
                f"manifest {key} cannot be resolved{cause}: {exc.message}"
                + (f" — {exc.hint}" if exc.hint else ""),
                file=exc.file, line=exc.line, stack_file=key))
            return []
        self._parse_warnings(node.warnings)
        try:
            drafts, issues = self.resolver.resolve(node)
        except Exception as exc:  # a bug here must not stop the other manifests
            log.debug("internal error resolving %s", key, exc_info=True)
            self.problems.append(ResolutionProblem(
                f"manifest {key} could not be resolved (internal error {type(exc).__name__}: {exc}) — "
                "please report it with this manifest", file=str(path), stack_file=key))
            return []
        for issue in issues:
            self._issue(node, issue)
        for draft in drafts:
            for text in draft.unsupported_templates:
                self._template_warning(node, draft, text,
                                       "uses Go-template features beyond {{ .path }}; it is left as written")
            for text, missing in draft.missing_templates:
                self._template_warning(node, draft, text,
                                       f"uses {missing}, which is not set; it is left as written")
        return drafts

    def _parse_warnings(self, warnings: Iterable[ParseIssue]) -> None:
        for warning in warnings:
            if warning in self._warned:
                continue
            self._warned.add(warning)
            self.problems.append(ResolutionProblem(warning.message, file=warning.file, line=warning.line,
                                                   severity="warning"))

    def _issue(self, node: Node, issue: Issue) -> None:
        file, line = _locate(node, issue.key_path)
        where = issue.stack or node.key
        instance = instance_id(issue.component, where) if issue.component != "*" else None
        message = f"component {issue.component!r} ({issue.kind}) in manifest {node.key}: {issue.message}"
        if issue.hint:
            message += f" — {issue.hint}"
        self.problems.append(ResolutionProblem(message, file=file, line=line, instance=instance,
                                               stack_file=node.key, severity=issue.severity))

    def _template_warning(self, node: Node, draft: Draft, text: str, what: str) -> None:
        """One warning per template text, however many instances use it."""
        if ("template", text) in self._warned:
            return
        self._warned.add(("template", text))
        file, line = _find_text(node, text)
        iid = instance_id(draft.component, draft.stack)
        self.problems.append(ResolutionProblem(
            f"template {text!r} {what} (first seen in {iid}; --stacks-source atmos evaluates it with Atmos)",
            file=file, line=line, instance=iid, severity="warning"))

    # -- across manifests ------------------------------------------------------------------------
    def _drop_duplicates(self, drafts: list[Draft]) -> list[Draft]:
        """The same instance from two manifests is an error for both, unless both resolve identically."""
        first: dict[str, Draft] = {}
        groups: dict[str, list[Draft]] = {}
        for draft in drafts:
            iid = instance_id(draft.component, draft.stack)
            seen = first.setdefault(iid, draft)
            if seen is not draft:
                groups.setdefault(iid, [seen]).append(draft)
        if not groups:
            return drafts
        for iid, group in groups.items():
            del first[iid]
            manifests = sorted({d.stack_file for d in group})
            if len(manifests) > 1 and not _same_sections(group):
                for draft in group:
                    others = ", ".join(m for m in manifests if m != draft.stack_file)
                    self.problems.append(ResolutionProblem(
                        f"duplicate stack name {draft.stack!r}: manifests {draft.stack_file} and {others} "
                        f"both define {iid} differently — give the manifests distinct stack names (name:, "
                        "or the vars used by name_template/name_pattern)", file=str(draft.manifest),
                        instance=iid, stack_file=draft.stack_file))
                continue
            kinds = [d.kind for d in group]
            winner = group[kinds.index("terraform")] if "terraform" in kinds else group[0]
            first[iid] = winner
            if len(set(kinds)) > 1:
                self.problems.append(ResolutionProblem(
                    f"{iid} is defined as {' and '.join(kinds)} components; the instance id refers to the "
                    f"{winner.kind} one", file=str(winner.manifest), instance=iid,
                    stack_file=winner.stack_file, severity="warning"))
        return list(first.values())

def assemble_instances(drafts: list[Draft], config: HarnessConfig,
                       problems: list[ResolutionProblem]) -> list[ComponentInstance]:
    """Attach dependencies, location and environment type to resolved sections; build the instances.

    Shared by the native resolver and the `atmos` adapter, so both give the same model.
    """
    index = DependencyIndex(Candidate(d.component, d.stack, d.section.get("vars") or {}) for d in drafts)
    rules = config.environments
    classified: dict[tuple[str, str | None, int], tuple[str | None, str]] = {}
    instances = []
    for draft in drafts:
        iid = instance_id(draft.component, draft.stack)
        section = draft.section
        deps = (index.resolve(Candidate(draft.component, draft.stack, section.get("vars") or {}), section)
                if _concrete(draft) else NO_DEPENDENCIES)
        for error in deps.errors:
            problems.append(ResolutionProblem(f"{iid}: dependency {error}", file=str(draft.manifest),
                                              instance=iid, stack_file=draft.stack_file))
        where = locate(section, config.default_region)
        settings = section.get("settings") or {}
        key = (draft.stack, where.account_id, id(settings.get("stackharness")))
        found = classified.get(key) if not rules.guess_from_account_name else None
        if found is None:
            found = classify(iid, draft.stack, section, where.account_id, rules)
            classified[key] = found
        env_type = found[0]
        if env_type is None and config.strict_environments and _deployable(draft):
            problems.append(ResolutionProblem(
                f"{iid} has no environment type (strict_environments is on) — set "
                "settings.stackharness.environment_type, or map the stack or account under environments:",
                file=str(draft.manifest), instance=iid, stack_file=draft.stack_file))
        instances.append(build_instance(draft.component, draft.stack, draft.kind, section,
                                        stack_file=draft.stack_file, sources=draft.files,
                                        section_sources=draft.section_files,
                                        component_path=draft.component_path, state_key=draft.state_key,
                                        dependencies=deps.ids, dependency_errors=deps.errors,
                                        environment_type=env_type, region=where.region,
                                        account_id=where.account_id, role_arn=where.role_arn,
                                        imports=tuple(sorted(draft.imports))))
    return instances


_MANIFEST_KEYS = ("atmos_manifest", "atmos_stack_file")


def _same_sections(group: list[Draft]) -> bool:
    def comparable(draft: Draft) -> tuple[str, dict[str, Any]]:
        return draft.kind, {k: v for k, v in draft.section.items() if k not in _MANIFEST_KEYS}
    reference = comparable(group[0])
    return all(comparable(d) == reference for d in group[1:])


def _concrete(draft: Draft) -> bool:
    """Not abstract and not disabled: a node of some graph, so its dependencies are resolved.

    Abstract and disabled components are never nodes (any type; helmfile releases are nodes of the
    Atmos-shaped `describe` graphs), so a dependency they declare is neither resolved nor reported.
    """
    metadata = draft.section.get("metadata") or {}
    return metadata.get("type") != "abstract" and metadata.get("enabled") is not False


def _deployable(draft: Draft) -> bool:
    return draft.kind == "terraform" and _concrete(draft)


def build_instance(component: str, stack: str, kind: str, section: Mapping[str, Any], *, stack_file: str,
                   sources: tuple[str, ...], component_path: str | None,
                   section_sources: tuple[str, ...] | None = None,
                   state_key: str | None, dependencies: tuple[str, ...], dependency_errors: tuple[str, ...],
                   environment_type: str | None, region: str | None, account_id: str | None,
                   role_arn: str | None, imports: tuple[str, ...] = ()) -> ComponentInstance:
    """A `ComponentInstance` from an Atmos-shaped section (shared by the native loader and the adapter)."""
    return ComponentInstance(
        component=component, stack=stack, component_type=kind,
        terraform_component=str(section.get("component") or component),
        vars=section.get("vars") or {}, settings=section.get("settings") or {}, env=section.get("env") or {},
        backend_type=str(section.get("backend_type") or ""), backend=section.get("backend") or {},
        metadata=section.get("metadata") or {}, providers=section.get("providers") or {},
        workspace=str(section.get("workspace") or ""), state_key=state_key, stack_file=stack_file,
        sources=tuple(sources), section_sources=section_sources, component_path=component_path,
        inheritance=tuple(section.get("inheritance") or ()), dependencies=dependencies,
        dependency_errors=dependency_errors, environment_type=environment_type, region=region,
        account_id=account_id, role_arn=role_arn, imports=imports, section=section,
    )


def _locate(node: Node, key_path: tuple[str, ...]) -> tuple[str, int | None]:
    """The last file of the closure that sets `key_path` (as far as it exists), and the line."""
    if not key_path:
        return str(node.path), None
    best: tuple[int, Node] | None = None
    for candidate in node.walk():
        depth = _depth(candidate.data, key_path)
        if depth and (best is None or depth >= best[0]):
            best = (depth, candidate)
    if best is None:
        return str(node.path), None
    depth, found = best
    return str(found.path), line_of_key(found.parsed.text, key_path[:depth])


def _depth(data: Any, key_path: tuple[str, ...]) -> int:
    depth = 0
    for key in key_path:
        if not isinstance(data, Mapping) or key not in data:
            break
        data = data[key]
        depth += 1
    return depth


def _find_text(node: Node, text: str) -> tuple[str | None, int | None]:
    needle = text.strip()
    for candidate in reversed(list(node.walk())):
        body = candidate.parsed.text
        at = body.find(needle)
        if at >= 0:
            return str(candidate.path), body.count("\n", 0, at) + 1
    return None, None
