"""Run the real `terraform` binary offline against the moto server (shared by state and runner tests).

A working dir gets an S3 backend pointed at moto (path-style, no credential, account or region
checks), an empty CLI config, dummy credentials and no checkpoint calls, so `terraform init` needs
no network. Only resources without a provider download work: `terraform_data` and `local-exec`.

    tf = TerraformDir.create(tmp_path / "app", moto, bucket="tfstate", key="app/terraform.tfstate",
                             dynamodb_table="locks", main=TerraformDir.data_resource("x", "v1"))
    tf.init()
    tf.run("apply", "-auto-approve")
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TERRAFORM = shutil.which("terraform")
requires_terraform = pytest.mark.skipif(
    TERRAFORM is None,
    reason="no `terraform` binary on PATH (install Terraform 1.11 to run the interop tests)")
# Generous: the machine is shared, and Terraform retries a bad digest for ~10 s before failing.
TIMEOUT = 180.0


# moto's HTTP server now and then makes Terraform's AWS SDK retry a conditional PutItem that moto had
# already applied; the retry fails on Terraform's own lock, which then stays behind (seen only on moto,
# never against AWS; see docs/state-and-locks.md). The test helpers recognise exactly that error,
# remove that lock with `terraform force-unlock` and run the command once more.
_OWN_LOCK_RACE = re.compile(r"failed to lock s3 state: operation error DynamoDB: PutItem.*?"
                            r"ConditionalCheckFailedException.*?Lock Info:\s+ID:\s+(\S+)", re.S)


def own_lock_race(output: str) -> str | None:
    """The lock id when Terraform failed on the lock its own retried write left (see above)."""
    match = _OWN_LOCK_RACE.search(output)
    return match.group(1) if match else None


def backend_block(endpoint: str, *, bucket: str, key: str, region: str = "us-east-1",
                  dynamodb_table: str | None = None, use_lockfile: bool = False,
                  workspace_key_prefix: str | None = None) -> str:
    """A `terraform { backend "s3" {...} }` block talking to `endpoint` only."""
    settings = {"bucket": bucket, "key": key, "region": region}
    if dynamodb_table:
        settings["dynamodb_table"] = dynamodb_table
    if workspace_key_prefix:
        settings["workspace_key_prefix"] = workspace_key_prefix
    lines = [f"    {name} = {json.dumps(value)}" for name, value in settings.items()]
    if use_lockfile:
        lines.append("    use_lockfile = true")
    lines += [
        f"    endpoints = {{ s3 = {json.dumps(endpoint)}, dynamodb = {json.dumps(endpoint)} }}",
        "    use_path_style = true",
        "    skip_credentials_validation = true",
        "    skip_requesting_account_id = true",
        "    skip_region_validation = true",
        "    skip_metadata_api_check = true",
    ]
    return "terraform {\n  backend \"s3\" {\n" + "\n".join(lines) + "\n  }\n}\n"


@dataclass
class TerraformProcess:
    """A background terraform run in its own process group (so its local-exec children die with it)."""

    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait(self, timeout: float = TIMEOUT) -> int:
        return self.popen.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL the whole process group (terraform and every local-exec it started); wait until
        none of them is running."""
        if self.popen.poll() is None or live_members(self.popen.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=TIMEOUT)
        wait_for(lambda: not live_members(self.popen.pid), timeout=30, what="the process group to die")


def live_members(pgid: int) -> list[int]:
    """Pids in a process group that are still running (zombies awaiting their reaper do not count)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()    # after "pid (comm) ": state, ppid, pgrp, ...
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


@dataclass
class TerraformDir:
    """A Terraform working directory with an S3 backend on moto."""

    path: Path
    endpoint: str
    env: dict[str, str] = field(default_factory=dict)
    processes: list[TerraformProcess] = field(default_factory=list)

    @classmethod
    def create(cls, path: Path, endpoint: str, *, bucket: str, key: str, main: str = "",
               **backend: object) -> TerraformDir:
        path.mkdir(parents=True, exist_ok=True)
        (path / "backend.tf").write_text(backend_block(endpoint, bucket=bucket, key=key, **backend))
        (path / "main.tf").write_text(main)
        cli_config = path / ".terraformrc-empty"
        cli_config.write_text("")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_PROFILE"))}
        env.update({
            "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_INPUT": "0",
            "TF_CLI_CONFIG_FILE": str(cli_config), "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
        })
        env.pop("AWS_SESSION_TOKEN", None)
        return cls(path, endpoint, env)

    def write_main(self, main: str) -> None:
        (self.path / "main.tf").write_text(main)

    def run(self, *args: str, timeout: float = TIMEOUT, check: bool = True,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run `terraform ARGS -no-color` to completion; on `check`, a failure shows terraform's output.

        `env` adds variables for this run only (e.g. `TF_WORKSPACE`).
        """
        assert TERRAFORM, "terraform is not on PATH"
        result = self._run_once(args, timeout, env)
        lock_id = own_lock_race(result.stdout + result.stderr) if result.returncode else None
        if lock_id:
            self._run_once(("force-unlock", "-force", lock_id), timeout, env)
            result = self._run_once(args, timeout, env)
        if check and result.returncode != 0:
            raise AssertionError(f"terraform {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def _run_once(self, args: tuple[str, ...], timeout: float,
                  env: dict[str, str] | None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([TERRAFORM, *args, "-no-color"], cwd=self.path, env={**self.env, **(env or {})},
                              capture_output=True, text=True, timeout=timeout, check=False)

    def init(self) -> None:
        self.run("init", "-input=false")

    def start(self, *args: str, log_name: str = "terraform.log",
              env: dict[str, str] | None = None) -> TerraformProcess:
        """Start `terraform ARGS -no-color` in the background, in a new process group."""
        assert TERRAFORM, "terraform is not on PATH"
        log = self.path / log_name
        with log.open("wb") as handle:
            popen = subprocess.Popen([TERRAFORM, *args, "-no-color"], cwd=self.path,
                                     env={**self.env, **(env or {})},
                                     stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        process = TerraformProcess(popen, log)
        self.processes.append(process)
        return process

    def kill_all(self) -> None:
        """Kill every background run still going (teardown: nothing outlives the test)."""
        for process in self.processes:
            process.kill()

    # -- resources that need no provider download ------------------------------------------
    @staticmethod
    def data_resource(name: str, value: str, *, sensitive_output: str | None = None) -> str:
        """A `terraform_data` resource holding `value` (plus a sensitive output when asked)."""
        text = f'resource "terraform_data" "{name}" {{\n  input = {json.dumps(value)}\n}}\n'
        if sensitive_output is not None:
            text += (f'output "{name}_secret" {{\n  value = {json.dumps(sensitive_output)}\n'
                     "  sensitive = true\n}\n")
        return text

    @staticmethod
    def gated_resource(name: str, gate: Path, started: Path, *, run: str = "1", max_wait_s: int = 300) -> str:
        """A resource whose `local-exec` touches `started`, then waits until `gate` exists.

        A new `run` value replaces the resource, so its creation-time provisioner runs again.

        The wait is bounded (`max_wait_s`) so a forgotten gate never leaves a process behind for long.
        """
        ticks = max_wait_s * 10
        command = (f"touch '{started}'; i=0; while [ ! -f '{gate}' ] && [ $i -lt {ticks} ]; "
                   "do sleep 0.1; i=$((i+1)); done")
        return (f'resource "terraform_data" "{name}" {{\n  triggers_replace = {json.dumps(run)}\n'
                f'  provisioner "local-exec" {{\n    command = {json.dumps(command)}\n  }}\n}}\n')


@pytest.fixture
def terraform_dirs(tmp_path: Path):
    """A factory `make(name, endpoint, **backend) -> TerraformDir`; background runs die at teardown.

    Import it into a conftest (`from tests.tf import terraform_dirs`) to use it.
    """
    made: list[TerraformDir] = []

    def make(name: str, endpoint: str, **kwargs: object) -> TerraformDir:
        directory = TerraformDir.create(tmp_path / name, endpoint, **kwargs)  # type: ignore[arg-type]
        made.append(directory)
        return directory

    yield make
    for directory in made:
        directory.kill_all()


def wait_for(condition, *, timeout: float = 60.0, interval: float = 0.1, what: str = "condition"):
    """Poll `condition()` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)
