"""Shared fixtures for the harness's own tests: a real moto server on 127.0.0.1, never real AWS."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from harness.embedded import DUMMY_CREDENTIALS, embedded_moto, reset_moto


@pytest.fixture(scope="session", autouse=True)
def _no_real_aws():
    """Dummy credentials and no profile, so no test can reach a real account."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in DUMMY_CREDENTIALS.items():
            mp.setenv(name, value)
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            mp.delenv(name, raising=False)
        mp.setenv("AWS_CONFIG_FILE", os.devnull)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        for name in list(os.environ):
            if name.startswith("STACKHARNESS_"):
                mp.delenv(name)
        yield


@pytest.fixture(scope="session")
def moto_server() -> str:
    """One moto server per test process (each xdist worker has its own)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one INFO line per request otherwise
    with embedded_moto() as endpoint:
        yield endpoint


@pytest.fixture
def moto(moto_server: str) -> str:
    """The moto endpoint, reset to empty before the test."""
    reset_moto(moto_server)
    return moto_server


@pytest.fixture
def raw(moto: str) -> Callable[..., Any]:
    """Plain boto3 clients on moto for test setup (outside the AWS layer: not guarded, not metered)."""

    def client(service: str, region: str = "us-east-1") -> Any:
        return boto3.client(service, region_name=region, endpoint_url=moto)

    return client


pytest_plugins = ["pytester"]


# -- what happened to the Terraform interop tests, at the end of the run (CI's log shows it) ---------
_TERRAFORM_OUTCOMES: dict[str, str | None] = {}   # node id -> skip reason, None when it ran (this process)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "terraform" not in report.keywords:
        return
    if report.skipped:
        longrepr = report.longrepr
        reason = str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)
        _TERRAFORM_OUTCOMES[report.nodeid] = reason.removeprefix("Skipped: ")
    elif report.when in ("setup", "call"):
        _TERRAFORM_OUTCOMES.setdefault(report.nodeid, None)


def terraform_summary(outcomes: dict[str, str | None]) -> str:
    """`terraform interop tests: N ran, M skipped (reason; ...)`."""
    ran = sum(reason is None for reason in outcomes.values())
    reasons = sorted({reason for reason in outcomes.values() if reason is not None})
    skipped = len(outcomes) - ran
    return (f"terraform interop tests: {ran} ran, {skipped} skipped"
            + (f" ({'; '.join(reasons)})" if reasons else ""))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Under xdist the controller sees every worker's reports, so this counts the whole run."""
    if _TERRAFORM_OUTCOMES:
        terminalreporter.write_line(terraform_summary(_TERRAFORM_OUTCOMES))
