"""The run's last lines say how many Terraform interop tests ran or were skipped, and why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tf import requires_terraform

ROOT = Path(__file__).resolve().parents[2]


def _run(path: str, *args: str) -> str:
    python_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": path or python_dir}
    command = [sys.executable, "-m", "pytest", "tests/state/test_terraform_interop.py", "-q", "-p",
               "no:cacheprovider", "-k", "reads_the_states or digest", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
                          check=False).stdout


def test_without_terraform_on_path_the_skips_and_their_reason_are_reported():
    out = _run("/nonexistent")
    line = [line for line in out.splitlines() if line.startswith("terraform interop tests:")]
    assert len(line) == 1 and " 0 ran, " in line[0], out
    assert "skipped (no `terraform` binary on PATH" in line[0]


@pytest.mark.slow
@requires_terraform
def test_with_terraform_the_tests_that_ran_are_counted_under_xdist_too():
    out = _run(os.environ["PATH"], "-n", "2")
    [line] = [line for line in out.splitlines() if line.startswith("terraform interop tests:")]
    assert line.endswith(" skipped") and not line.startswith("terraform interop tests: 0 ran"), out
