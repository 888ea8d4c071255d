"""The component runner: Terraform (or any command) across instances, in dependency order.

`Runner(instances, command, ...).run()` starts each instance once all its dependencies (among the
selected instances) finished, at most `concurrency` at a time and within the per-group caps of the
environment profiles, best critical-path priority first (`harness.dispatch`, shared with the xdist
scheduler). Each instance runs in its own working directory (`harness.workdir`): for Terraform,
`init` when the configuration changed since the last one, `workspace select -or-create`, then the
command with the instance's var file; for `--exec`, the shell command with STACKHARNESS_INSTANCE,
_COMPONENT, _STACK, _WORKDIR and _VARS_FILE set. Output goes to one log file per instance.

A failed instance skips its dependents -- "dependency vpc@prod failed: terraform apply exited 1:
Error: ...", further down "dependency subnet@prod skipped (root cause: vpc@prod failed)" -- and
never stops independent ones; `fail_fast` stops dispatching instead. `interrupt()` (Ctrl-C) stops
dispatching and sends SIGINT to every running process group, so Terraform releases its lock before
it exits; the run then ends with what ran.

`post_steps` run after the command in the same working directory (e.g. turning a saved plan into
JSON for drift); each may raise `StepFailed`.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from harness.dispatch import Dispatch, Outcome, blocked_by
from harness.errors import HarnessError, UsageError
from harness.graph import ConcurrencyLimits, DependencyGraph
from harness.stacks.model import ComponentInstance
from harness.workdir import Workdir, prepare, vars_file_name

# Subcommands that take the instance's var file.
VAR_FILE_COMMANDS = frozenset({"plan", "apply", "destroy", "refresh", "import", "console"})
# Subcommands that change infrastructure or state: they run only with --yes.
WRITE_COMMANDS = frozenset({"apply", "destroy", "import", "taint", "untaint", "force-unlock", "state"})
READ_ONLY_STATE = frozenset({"list", "show", "pull"})
APPROVAL_COMMANDS = frozenset({"apply", "destroy"})
# Subcommands whose output goes to the log without colour codes.
_NO_COLOR = ("init", "plan", "apply", "destroy", "refresh", "import", "output", "show", "validate")
_ERROR_LINE = re.compile(r"^\s*(?:│\s*)?Error:\s*(.+)$", re.MULTILINE)


class StepFailed(Exception):
    """Raised by a post step: the instance fails with this reason."""


@dataclass(frozen=True)
class Command:
    """What runs in each instance's working directory: Terraform arguments, or a shell command."""

    terraform: tuple[str, ...] = ()
    shell: str | None = None
    binary: str = "terraform"

    @classmethod
    def parse(cls, argv: Sequence[str], shell: str | None = None, *, yes: bool = False) -> Command:
        """From `-- terraform ARGS` (or `-- ARGS`) or `--exec CMD`. Write commands need `yes`, which
        also answers Terraform's approval prompt (`-auto-approve`)."""
        argv = list(argv)
        if argv and argv[0] == "--":
            argv = argv[1:]
        if shell is not None:
            if argv:
                raise UsageError("give either --exec 'CMD' or a command after --, not both")
            return cls(shell=shell)
        if not argv:
            raise UsageError("nothing to run", hint="add a command after --, e.g. `stackharness run -- terraform "
                             "plan`, or --exec 'CMD'")
        binary = "terraform"
        if Path(argv[0]).name in ("terraform", "tofu"):
            binary, argv = argv[0], argv[1:]
        if not argv or argv[0].startswith("-"):
            raise UsageError(f"`{' '.join([binary, *argv])}` names no Terraform subcommand",
                             hint="e.g. `stackharness run -- terraform plan`")
        command = cls(terraform=tuple(argv), binary=binary)
        if command.writes and not yes:
            raise UsageError(f"`terraform {argv[0]}` changes infrastructure or state and runs only with --yes",
                             hint="add --yes to confirm, or --dry-run to see what would run in which order")
        if yes and argv[0] in APPROVAL_COMMANDS and "-auto-approve" not in argv:
            command = cls(terraform=(argv[0], "-auto-approve", *argv[1:]), binary=binary)
        return command

    @property
    def subcommand(self) -> str | None:
        return self.terraform[0] if self.terraform else None

    @property
    def writes(self) -> bool:
        sub = self.subcommand
        if sub == "state":
            return len(self.terraform) < 2 or self.terraform[1] not in READ_ONLY_STATE
        if sub == "workspace":
            return len(self.terraform) > 1 and self.terraform[1] == "delete"
        return sub in WRITE_COMMANDS

    def describe(self) -> str:
        return self.shell if self.shell is not None else " ".join([Path(self.binary).name, *self.terraform])


@dataclass(frozen=True)
class Step:
    """One process of an instance's job."""

    name: str
    argv: tuple[str, ...]


@dataclass(frozen=True)
class InstanceRun:
    """How one instance ended (`status` ok, failed or skipped)."""

    id: str
    status: str
    reason: str | None = None
    started: str | None = None
    finished: str | None = None
    log: str | None = None
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "reason": self.reason, "started": self.started,
                "finished": self.finished, "log": self.log}


@dataclass(frozen=True)
class RunReport:
    """The whole run: every selected instance in dependency order, and the timing."""

    instances: tuple[InstanceRun, ...]
    makespan_s: float
    critical_path_s: float
    interrupted: bool = False

    def to_json(self) -> dict[str, Any]:
        """The `run-<timestamp>.json` document."""
        return {"instances": [i.to_json() for i in self.instances], "makespan_s": self.makespan_s,
                "critical_path_s": self.critical_path_s}

    def count(self, status: str) -> int:
        return sum(1 for i in self.instances if i.status == status)

    @property
    def exit_code(self) -> int:
        """0 all ok, 1 any failed or skipped, 130 interrupted."""
        if self.interrupted:
            return 130
        return 0 if all(i.status == "ok" for i in self.instances) else 1


@dataclass(frozen=True)
class RunEvent:
    """Progress: `start` (with `step`), `step` (a new step), `end` (with `result`; skips too)."""

    kind: str
    instance: str
    step: str | None = None
    result: InstanceRun | None = None


@dataclass
class InstanceWork:
    """What a post step gets: the instance, its working directory and log, and a way to run more."""

    instance: ComponentInstance
    workdir: Workdir
    log: Path
    run: Callable[..., int | None]        # run(step, stdout=None) -> exit code; None when interrupted first


class PostStep(Protocol):
    def __call__(self, work: InstanceWork) -> None: ...


@dataclass(frozen=True)
class PlannedInstance:
    """A line of the dry run."""

    id: str
    batch: int | None
    dependencies: tuple[str, ...]
    steps: tuple[str, ...]
    blocked: bool = False


def utc_iso(timestamp: float) -> str:
    """ISO 8601 UTC with milliseconds."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def run_stamp(timestamp: float | None = None) -> str:
    """The UTC stamp of a run's files: `run-<stamp>.json`, `run-<stamp>/`."""
    return datetime.fromtimestamp(timestamp or time.time(), UTC).strftime("%Y%m%dT%H%M%SZ")


def reserve_run_stamp(report_dir: Path, *, clock: Callable[[], float] = time.time,
                      sleep: Callable[[float], None] = time.sleep) -> str:
    """A stamp whose `run-<stamp>/` log folder did not exist (created here), so two runs started in the
    same second never share logs (they are appended to) or `run-<stamp>.json`: the later one waits
    for the next second."""
    report_dir.mkdir(parents=True, exist_ok=True)
    while True:
        now = clock()
        stamp = run_stamp(now)
        try:
            (report_dir / f"run-{stamp}").mkdir()
            return stamp
        except FileExistsError:
            sleep(1.001 - now % 1)


@dataclass
class Runner:
    """Runs `command` for `instances` (see the module docstring). Not reusable: one `run()` per Runner."""

    instances: Sequence[ComponentInstance]
    command: Command
    work_root: Path
    log_dir: Path
    graph: DependencyGraph | None = None
    concurrency: int = 4
    limits: ConcurrencyLimits | None = None
    fail_fast: bool = False
    endpoint_url: str | None = None
    weights: Mapping[str, float] | None = None
    on_event: Callable[[RunEvent], None] | None = None
    post_steps: Sequence[PostStep] = ()
    env: Mapping[str, str] | None = None
    broken: Mapping[str, str] = field(default_factory=dict)   # instance -> configuration error: never run
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict, repr=False)
    _interrupts: int = 0
    _first_start: float | None = None
    _events: queue.Queue[tuple[str, str, Any]] = field(default_factory=queue.Queue, repr=False)

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise UsageError(f"--concurrency must be at least 1, got {self.concurrency}")
        self.instances = sorted(self.instances, key=lambda i: i.id)
        self._by_id = {i.id: i for i in self.instances}
        full = self.graph or DependencyGraph.build(self.instances)
        self.graph = full.subgraph([i for i in self._by_id if i in full])

    # -- the plan ---------------------------------------------------------------------------------
    def plan(self) -> list[PlannedInstance]:
        """What would run, in dependency order (blocked instances last): the dry run."""
        graph = self._graph
        order = list(graph.order()) + sorted(graph.blocked)
        return [PlannedInstance(i, graph.batch_of(i), graph.dependencies(i),
                                tuple(s.name if s.name != "command" else self.command.describe()
                                      for s in self._steps(self._by_id[i], None)), i in graph.blocked)
                for i in order]

    @property
    def _graph(self) -> DependencyGraph:
        assert self.graph is not None
        return self.graph

    # -- running ----------------------------------------------------------------------------------
    def run(self) -> RunReport:
        """Run everything; returns when every instance ended or was skipped."""
        graph = self._graph
        ids = [i.id for i in self.instances]
        dispatch = Dispatch(ids, {i: graph.dependencies(i) for i in ids}, priority=graph.priority(self.weights),
                            group=self.limits.group if self.limits else None,
                            caps=self.limits.max_concurrency if self.limits else None)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        outcomes: dict[str, Outcome] = {}
        results: dict[str, InstanceRun] = {}
        running: dict[str, float] = {}
        ends: list[float] = []
        stop_reason: str | None = None
        with self._forward_sigint():
            while True:
                if self._interrupts and stop_reason is None:
                    stop_reason = "interrupted"
                if stop_reason is None:
                    self._start_ready(dispatch, outcomes, results, running)
                if not running:
                    break
                kind, instance, payload = self._events.get()
                if kind == "step":
                    self._emit(RunEvent("step", instance, step=payload))
                elif kind == "done":
                    status, reason = payload
                    started, finished = running.pop(instance), time.time()
                    ends.append(finished)
                    result = InstanceRun(instance, status, reason, utc_iso(started), utc_iso(finished),
                                         str((self.log_dir / f"{instance}.log").resolve()), finished - started)
                    results[instance] = result
                    outcomes[instance] = Outcome(status, reason or "", isolating=status != "ok")
                    dispatch.finish(instance)
                    self._emit(RunEvent("end", instance, result=result))
                    if status != "ok" and self.fail_fast and stop_reason is None:
                        stop_reason = f"--fail-fast: stopped after {instance} failed"
        for instance in [*graph.order(), *sorted(graph.blocked)]:   # dependencies first: root causes pass on
            if instance not in results:
                outcomes[instance] = self._never_ran(instance, graph, outcomes, stop_reason)
                results[instance] = InstanceRun(instance, "skipped", outcomes[instance].message)
                self._emit(RunEvent("end", instance, result=results[instance]))
        return self._report(ids, results, self._first_start, ends)

    def interrupt(self) -> None:
        """Stop dispatching and send SIGINT to every running process group (again on a second call:
        Terraform then exits at once). Safe from a signal handler or another thread."""
        with self._lock:
            self._interrupts += 1
            processes = list(self._processes.values())
        for process in processes:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGINT)
        self._events.put(("wake", "", None))

    def _start_ready(self, dispatch: Dispatch[str], outcomes: dict[str, Outcome],
                     results: dict[str, InstanceRun], running: dict[str, float]) -> None:
        while len(running) < self.concurrency:
            batch = dispatch.take(self.concurrency - len(running))
            if not batch:
                return
            for instance in batch:
                if instance in self.broken:
                    outcomes[instance] = Outcome("failed", self.broken[instance], isolating=True)
                    results[instance] = InstanceRun(instance, "failed", f"not run: {self.broken[instance]}")
                    dispatch.finish(instance)
                    self._emit(RunEvent("end", instance, result=results[instance]))
                    continue
                verdict = blocked_by((d, outcomes[d]) for d in dispatch.dependencies(instance))
                if verdict is not None:
                    outcomes[instance] = verdict
                    results[instance] = InstanceRun(instance, "skipped", verdict.message)
                    dispatch.finish(instance)
                    self._emit(RunEvent("end", instance, result=results[instance]))
                    continue
                running[instance] = time.time()
                if self._first_start is None:
                    self._first_start = running[instance]
                self._emit(RunEvent("start", instance, step="prepare"))
                threading.Thread(target=self._work, args=(self._by_id[instance],), daemon=True,
                                 name=f"run {instance}").start()

    @staticmethod
    def _never_ran(instance: str, graph: DependencyGraph, outcomes: Mapping[str, Outcome],
                   stop_reason: str | None) -> Outcome:
        verdict = blocked_by((d, outcomes[d]) for d in graph.dependencies(instance) if d in outcomes)
        if verdict is not None:
            return verdict
        if stop_reason is not None:
            return Outcome("skipped", f"not run: {stop_reason}")
        cycle = next((c for c in graph.cycles if instance in c), None)
        where = f": {' -> '.join((*cycle, cycle[0]))}" if cycle else " (downstream of one)"
        return Outcome("skipped", f"not run: blocked by a dependency cycle{where}")

    def _report(self, ids: Sequence[str], results: Mapping[str, InstanceRun], first_start: float | None,
                ends: Sequence[float]) -> RunReport:
        makespan = round(max(ends) - first_start, 3) if ends and first_start is not None else 0.0
        durations = {i: results[i].seconds for i in ids}
        critical = round(self._graph.critical_path_length(durations), 3) if ids else 0.0
        order = list(self._graph.order()) + sorted(self._graph.blocked)
        return RunReport(tuple(results[i] for i in order), makespan, critical, interrupted=bool(self._interrupts))

    # -- one instance -----------------------------------------------------------------------------
    def _work(self, instance: ComponentInstance) -> None:
        """The job of one instance (in its own thread): prepare, the steps, the post steps."""
        log_path = self.log_dir / f"{instance.id}.log"
        try:
            status, reason = self._job(instance, log_path)
        except Exception as exc:  # a bug must fail this instance, not hang the run
            status, reason = "failed", f"internal error: {type(exc).__name__}: {exc}"
        self._events.put(("done", instance.id, (status, reason)))

    def _job(self, instance: ComponentInstance, log_path: Path) -> tuple[str, str | None]:
        with log_path.open("ab") as log:
            try:
                workdir = prepare(instance, self.work_root, endpoint_url=self.endpoint_url)
            except HarnessError as exc:
                log.write(f"{exc}\n".encode())
                return "failed", str(exc)
            env = self._environment(instance, workdir)
            for step in self._steps(instance, workdir):
                self._events.put(("step", instance.id, step.name))
                code = self._spawn(instance.id, step, workdir.path, env, log)
                if code is None:
                    return "failed", "interrupted before it started"
                if code != 0:
                    return "failed", self._failure(step, code, log_path)
                if step.name == "init":
                    workdir.mark_initialised()
            work = InstanceWork(instance, workdir, log_path,
                                lambda step, stdout=None: self._spawn(instance.id, step, workdir.path, env, log,
                                                                      stdout=stdout))
            for post in self.post_steps:
                try:
                    post(work)
                except StepFailed as exc:
                    return "failed", str(exc)
        return "ok", None

    def _steps(self, instance: ComponentInstance, workdir: Workdir | None) -> list[Step]:
        command = self.command
        if command.shell is not None:
            return [Step("command", ("/bin/sh", "-c", command.shell))]
        binary, sub, args = command.binary, command.terraform[0], list(command.terraform[1:])
        steps: list[Step] = []
        if sub == "init":
            steps.append(Step("init", (binary, "init", "-input=false", *args)))
        elif workdir is None or workdir.needs_init():
            steps.append(Step("init", (binary, "init", "-input=false", "-reconfigure")))
        if instance.workspace and instance.workspace != "default":
            steps.append(Step("workspace", (binary, "workspace", "select", "-or-create=true", "-no-color",
                                            instance.workspace)))
        if sub != "init":
            name = workdir.vars_file.name if workdir else vars_file_name(instance)
            var_file = [f"-var-file={name}"] if sub in VAR_FILE_COMMANDS else []
            steps.append(Step("command", (binary, sub, *var_file, *args)))
        return steps

    def _environment(self, instance: ComponentInstance, workdir: Workdir) -> dict[str, str]:
        env = dict(self.env if self.env is not None else os.environ)
        env.update({str(k): str(v) for k, v in instance.env.items() if v is not None})
        env.update({"TF_IN_AUTOMATION": "1", "TF_INPUT": "0",
                    "STACKHARNESS_INSTANCE": instance.id, "STACKHARNESS_COMPONENT": instance.component,
                    "STACKHARNESS_STACK": instance.stack, "STACKHARNESS_WORKDIR": str(workdir.path.resolve()),
                    "STACKHARNESS_VARS_FILE": str(workdir.vars_file.resolve())})
        for sub in _NO_COLOR:
            env.setdefault(f"TF_CLI_ARGS_{sub}", "-no-color")
        return env

    def _spawn(self, instance: str, step: Step, cwd: Path, env: Mapping[str, str], log: Any,
               stdout: Any = None) -> int | None:
        """Run one step to completion in its own process group; None when interrupted before it started.

        Its output goes to the instance's log, or only its stderr when `stdout` (a file) is given."""
        log.write(f"$ {' '.join(step.argv)}\n".encode())
        log.flush()
        with self._lock:
            if self._interrupts:
                return None
            try:
                process = subprocess.Popen(step.argv, cwd=cwd, env=dict(env), stdout=stdout or log,
                                           stderr=log if stdout else subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                           start_new_session=True)
            except OSError as exc:
                log.write(f"cannot start {step.argv[0]}: {exc}\n".encode())
                return 127
            self._processes[instance] = process
        try:
            return process.wait()
        finally:
            with self._lock:
                self._processes.pop(instance, None)

    def _failure(self, step: Step, code: int, log_path: Path) -> str:
        what = "command" if self.command.shell is not None else \
            f"terraform {step.argv[1] if step.name != 'command' else self.command.subcommand}"
        if self._interrupts:
            return f"interrupted ({what} exited {code})"
        text = log_path.read_text(errors="replace")[-20000:]
        errors = _ERROR_LINE.findall(text)
        detail = errors[-1].strip() if errors else next(
            (line.strip() for line in reversed(text.splitlines()) if line.strip() and not line.startswith("$ ")), "")
        return f"{what} exited {code}" + (f": {detail}" if detail else "")

    def _emit(self, event: RunEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)

    @contextlib.contextmanager
    def _forward_sigint(self) -> Iterator[None]:
        """Ctrl-C becomes `interrupt()` while running (main thread only: elsewhere the caller forwards)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGINT, lambda *_: self.interrupt())
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def write_report(report: RunReport, path: Path) -> Path:
    """Write `run-<stamp>.json` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def previous_durations(report_dir: Path) -> dict[str, float]:
    """Seconds per instance from the newest `run-*.json` in `report_dir` (weights for the critical
    path: long instances start first); empty when there is none."""
    runs = sorted(report_dir.glob("run-*.json"))
    for path in reversed(runs):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            durations = {}
            for entry in document.get("instances", []):
                if entry.get("started") and entry.get("finished"):
                    start = datetime.fromisoformat(entry["started"].replace("Z", "+00:00"))
                    end = datetime.fromisoformat(entry["finished"].replace("Z", "+00:00"))
                    durations[entry["id"]] = max(0.0, (end - start).total_seconds())
            return durations
        except (OSError, ValueError, TypeError, AttributeError):
            continue
    return {}
