"""Per-process state of a pytest run: config, redactor, stack set, AWS pool and caches.

Built lazily on first use, so the plugin costs nothing in runs that use no stackharness fixture
(such as the harness's own tests). Held in `config.stash`; never a module global.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pytest

from harness.config import HarnessConfig, load_config
from harness.errors import HarnessError, StackError
from harness.log import Redactor
from harness.plugin.options import config_values
from harness.stacks.model import ComponentInstance, ResolutionProblem, StackSet
from harness.state.locks import LockScan, discover_locks
from harness.state.model import TerraformState

if TYPE_CHECKING:
    from harness.aws.context import AwsContext
    from harness.aws.session import SessionPool
    from harness.inventory.engine import LiveInventory
from harness.state.reader import read_state

if TYPE_CHECKING:
    from harness.graph import DependencyGraph


@dataclass(frozen=True)
class UnresolvedItem:
    """A parameter for something that could not be resolved; its item errors with every problem.

    It replaces the instance's own parameter (`instance`, when a selected instance has problems), so
    there is exactly one item per id.
    """

    id: str
    problems: tuple[ResolutionProblem, ...]
    instance: ComponentInstance | None = None

    def error(self) -> StackError:
        """The error the item fails with: the first problem's place, every problem in the message."""
        first = self.problems[0]
        if len(self.problems) == 1:
            return StackError(first.message, where=first.file, line=first.line)
        others = "; ".join(p.message if p.location == first.location else str(p) for p in self.problems[1:])
        return StackError(f"{first.message}; also {others}", where=first.file, line=first.line)


@dataclass
class HarnessSession:
    """Everything the fixtures share within one pytest process (controller or xdist worker)."""

    pytest_config: pytest.Config
    redactor: Redactor = field(default_factory=Redactor)
    _states: dict[str, TerraformState | HarnessError] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @cached_property
    def config(self) -> HarnessConfig:
        from harness.report.notify import webhook_secrets

        try:
            config = load_config(config_values(self.pytest_config), cwd=self.pytest_config.invocation_params.dir)
        except HarnessError as exc:
            raise pytest.UsageError(f"stackharness: {exc}") from None
        self.redactor.register(webhook_secrets(config.notify_webhook))
        return config

    @cached_property
    def selection(self) -> dict[str, Any]:
        """The selection flags that were given (see `harness.plugin.selection`)."""
        from harness.plugin.selection import selection_of

        return selection_of(self.pytest_config).to_json()

    @cached_property
    def stack_set(self) -> StackSet:
        from harness.stacks import load

        try:
            return load(self.config.stacks_repo, self.config)
        except HarnessError as exc:
            raise pytest.UsageError(f"stackharness: {exc}") from None

    @cached_property
    def graph(self) -> DependencyGraph:
        """The dependency graph of the deployable instances (built once per process)."""
        from harness.graph import DependencyGraph

        return DependencyGraph.build(self.stack_set)

    @cached_property
    def aws(self) -> AwsContext:
        """The process's AWS access: read-only, metered, retried, budgeted."""
        try:
            from harness.aws.context import AwsContext

            return AwsContext.from_config(self.config, redactor=self.redactor,
                                          worker_id=os.environ.get("PYTEST_XDIST_WORKER"),
                                          worker_slot=worker_slot(self.pytest_config))
        except HarnessError as exc:
            raise pytest.UsageError(f"stackharness: {exc}") from None

    @property
    def pool(self) -> SessionPool:
        return self.aws.pool

    @cached_property
    def inventory(self) -> LiveInventory:
        from harness.inventory.engine import LiveInventory

        return LiveInventory(self.aws)

    def api_snapshot(self) -> dict[str, Any] | None:
        """This process's cumulative API meter (None before any AWS access)."""
        aws = self.__dict__.get("aws")
        return aws.meter.snapshot() if aws is not None else None

    @cached_property
    def _lock_scan(self) -> LockScan:
        return discover_locks(self.stack_set.deployable, self.pool, config=self.config)

    def lock_scan(self) -> LockScan:
        """Every lock in the repo's backends, judged once per process (with the whole repo, so that
        orphans are told apart from locks of instances this worker does not check)."""
        return self._lock_scan

    def parameters(self) -> list[ComponentInstance | UnresolvedItem]:
        """One parameter per selected deployable instance or resolution error id (see `plugin.selection`)."""
        from harness.plugin.selection import parameters

        return parameters(self)

    def selected_instances(self) -> list[ComponentInstance]:
        """The selected deployable instances (sorted by id), those whose item is an error included."""
        return [p if isinstance(p, ComponentInstance) else p.instance for p in self.parameters()
                if isinstance(p, ComponentInstance) or p.instance is not None]

    def state_of(self, instance: ComponentInstance) -> TerraformState:
        """The instance's state, read once per process; a read error is cached and raised each time."""
        with self._lock:
            cached = self._states.get(instance.id)
        if cached is None:
            try:
                cached = self._read_state(instance)
            except HarnessError as exc:
                cached = exc
            with self._lock:
                self._states[instance.id] = cached
        if isinstance(cached, HarnessError):
            raise cached
        return cached

    def cached_state(self, instance: ComponentInstance) -> TerraformState | None:
        """The instance's state if this process already read it (never reads; None otherwise)."""
        with self._lock:
            cached = self._states.get(instance.id)
        return cached if isinstance(cached, TerraformState) else None

    def _read_state(self, instance: ComponentInstance) -> TerraformState:
        from harness.errors import StateError

        if instance.backend_type != "s3" or not instance.state_bucket or not instance.state_key:
            raise StateError(f"{instance.id}: backend {instance.backend_type or 'none'!r} is not an S3 backend "
                             "with a bucket", where=instance.stack_file,
                             hint="only the S3 backend is supported; set backend.s3.bucket")
        s3 = self.pool.backend_client(instance, "s3")
        return read_state(s3, instance.state_bucket, instance.state_key, redactor=self.redactor)


def worker_slot(config: pytest.Config) -> tuple[int, int] | None:
    """(k, W) for xdist worker `gwk` of W workers; None in the controller or without xdist.

    A worker id that is not `gw<number>` gets slot (W, W): no share of the API budget.
    """
    workerinput = getattr(config, "workerinput", None)
    if not workerinput:
        return None
    count = int(workerinput.get("workercount") or os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
    ident = str(workerinput.get("workerid", ""))
    index = ident.removeprefix("gw")
    return (int(index) if index.isdigit() else count), count


SESSION_KEY = pytest.StashKey[HarnessSession]()


def harness_session(config: pytest.Config) -> HarnessSession:
    """The process's HarnessSession (created on first use)."""
    if SESSION_KEY not in config.stash:
        config.stash[SESSION_KEY] = HarnessSession(config)
    return config.stash[SESSION_KEY]
