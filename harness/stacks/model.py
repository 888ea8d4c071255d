"""The resolved view of an Atmos repository: immutable component instances `component@stack`."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


def instance_id(component: str, stack: str) -> str:
    """The id of a component instance, as Atmos users write it: `component@stack`."""
    return f"{component}@{stack}"


@dataclass(frozen=True)
class ComponentInstance:
    """One Atmos component in one stack, fully resolved (merge, inheritance, names, backend).

    `section` is the component's section exactly as `atmos describe stacks` prints it; the other
    fields are the parts of it the harness uses, lifted out and typed. Treat every mapping as
    read-only: instances are shared between fixtures, workers' caches and reports.
    """

    component: str
    stack: str
    component_type: str                    # "terraform" (helmfile/packer instances are listed too)
    terraform_component: str               # the folder under components.terraform.base_path
    vars: Mapping[str, Any]
    settings: Mapping[str, Any]
    env: Mapping[str, Any]
    backend_type: str
    backend: Mapping[str, Any]
    metadata: Mapping[str, Any]
    providers: Mapping[str, Any]
    workspace: str
    state_key: str | None                  # the S3 object key of the state, when the backend is s3
    stack_file: str                        # the manifest's key (path under stacks.base_path, no extension)
    sources: tuple[str, ...] = ()          # every manifest file (absolute) of the stack's import closure
    section_sources: tuple[str, ...] | None = None  # those reaching this section (None: not known)
    component_path: str | None = None      # absolute path of the Terraform folder
    inheritance: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()     # resolved instance ids this one depends on
    dependency_errors: tuple[str, ...] = ()
    environment_type: str | None = None
    region: str | None = None
    account_id: str | None = None
    role_arn: str | None = None
    imports: tuple[str, ...] = ()          # every import of the manifest (keys, sorted), as Atmos lists them
    section: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def id(self) -> str:
        return instance_id(self.component, self.stack)

    @property
    def abstract(self) -> bool:
        return self.metadata.get("type") == "abstract"

    @property
    def enabled(self) -> bool:
        return self.metadata.get("enabled", True) is not False

    @property
    def locked(self) -> bool:
        """`metadata.locked: true`: the harness may read it but never changes it."""
        return self.metadata.get("locked") is True

    @property
    def deployable(self) -> bool:
        """Abstract and disabled components are listed but never deployed, checked or ordered."""
        return self.component_type == "terraform" and not self.abstract and self.enabled

    @property
    def state_bucket(self) -> str | None:
        return self.backend.get("bucket") if self.backend_type == "s3" else None

    @property
    def lock_table(self) -> str | None:
        if self.backend_type != "s3":
            return None
        return self.backend.get("dynamodb_table")

    @property
    def uses_lockfile(self) -> bool:
        return self.backend_type == "s3" and bool(self.backend.get("use_lockfile"))


@dataclass(frozen=True)
class ResolutionProblem:
    """A problem found while resolving: an error (the affected instances cannot be used) or a warning."""

    message: str
    file: str | None = None
    line: int | None = None
    instance: str | None = None            # the instance id, when the problem is about one instance
    stack_file: str | None = None          # the manifest key, when a whole manifest is affected
    severity: str = "error"

    @property
    def location(self) -> str:
        if not self.file:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


@dataclass(frozen=True)
class StackSet:
    """Every resolved instance of a repository, sorted by id, plus what could not be resolved."""

    repo: str
    instances: tuple[ComponentInstance, ...]
    problems: tuple[ResolutionProblem, ...] = ()
    _index: Mapping[str, ComponentInstance] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.instances, key=lambda i: i.id))
        object.__setattr__(self, "instances", ordered)
        object.__setattr__(self, "_index", {i.id: i for i in ordered})

    def __iter__(self) -> Iterator[ComponentInstance]:
        return iter(self.instances)

    def __len__(self) -> int:
        return len(self.instances)

    def __contains__(self, instance: object) -> bool:
        return instance in self._index

    def get(self, instance: str) -> ComponentInstance | None:
        """The instance with this id, or None."""
        return self._index.get(instance)

    @property
    def stacks(self) -> tuple[str, ...]:
        """Stack names, sorted."""
        return tuple(sorted({i.stack for i in self.instances}))

    @property
    def deployable(self) -> tuple[ComponentInstance, ...]:
        """Instances that are deployed, checked and ordered (not abstract, not disabled)."""
        return tuple(i for i in self.instances if i.deployable)

    @property
    def errors(self) -> tuple[ResolutionProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[ResolutionProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    def problems_for(self, instance: str) -> tuple[ResolutionProblem, ...]:
        """Problems about one instance id (`component@stack`), including ones for instances that could
        not be resolved at all (they are absent from `instances`)."""
        return tuple(p for p in self.problems if p.instance == instance)

    def select(self, *, stacks: Iterable[str] = (), components: Iterable[str] = (),
               environment_types: Iterable[str] = ()) -> tuple[ComponentInstance, ...]:
        """Deployable instances matching every given filter (globs for stacks and components)."""
        stack_globs, component_globs, types = list(stacks), list(components), set(environment_types)
        return tuple(
            i for i in self.deployable
            if (not stack_globs or any(fnmatch.fnmatchcase(i.stack, g) for g in stack_globs))
            and (not component_globs or any(fnmatch.fnmatchcase(i.component, g) for g in component_globs))
            and (not types or i.environment_type in types)
        )
