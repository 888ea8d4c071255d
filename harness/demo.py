"""The demo: provision an Atmos repo on moto (backend, resources, states), apply a drift scenario,
run the drift suite against it, and check that exactly the scenario's drift was found."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

import harness
from harness.aws.session import SessionPool
from harness.config import HarnessConfig
from harness.drift.scenarios import Scenario, ScenarioOutcome, compare_outcome
from harness.emulate.apply import apply_instance
from harness.emulate.scenario import apply_mutation
from harness.errors import HarnessError
from harness.report.drift_json import read_document
from harness.stacks import StackSet, load
from harness.stacks.model import ComponentInstance

log = logging.getLogger(__name__)

SOURCE_ROOT = Path(harness.__file__).resolve().parent.parent
DEFAULT_SCENARIO = SOURCE_ROOT / "fixtures" / "scenarios" / "demo.yaml"
SUITES = SOURCE_ROOT / "suites"


@dataclass(frozen=True)
class Provisioned:
    """What provisioning created: each instance's state document and the account used."""

    account_id: str
    states: Mapping[str, Mapping[str, Any]]
    backends: tuple[tuple[str, str | None], ...]   # (bucket, lock table)


def create_backends(pool: SessionPool, instances: list[ComponentInstance]) -> tuple[tuple[str, str | None], ...]:
    """Create each distinct S3 state bucket (versioned, as recommended) and DynamoDB lock table."""
    backends = sorted({(i.state_bucket, i.lock_table, i.backend.get("region") or i.region)
                       for i in instances if i.state_bucket}, key=lambda b: (b[0], b[1] or ""))
    for bucket, table, region in backends:
        s3 = pool.client("s3", region=region)
        if region in (None, "us-east-1"):
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        if table:
            pool.client("dynamodb", region=region).create_table(
                TableName=table, BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}])
    return tuple((bucket, table) for bucket, table, _ in backends)


def _writes(pool: SessionPool, what: str) -> AbstractContextManager:
    """The demo writes only into a local endpoint (moto), never into an account named by credentials."""
    if not pool.config.aws_endpoint_url:
        raise HarnessError(f"refusing {what} without --aws-endpoint-url",
                           hint="the demo provisions only into a local AWS endpoint such as a moto server")
    return pool.allow_writes(f"{what} on {pool.config.aws_endpoint_url}", level=logging.DEBUG)


def provision(pool: SessionPool, stack_set: StackSet) -> Provisioned:
    """Backend, then every deployable instance (dependencies first), each with its state written."""
    with _writes(pool, "demo provisioning"):
        try:
            return _provision(pool, stack_set)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists", "ResourceInUseException",
                        "InvalidGroup.Duplicate"):
                raise HarnessError(f"the demo is already provisioned on {pool.config.aws_endpoint_url} ({code})",
                                   hint="reset the server (POST /moto-api/reset) or start a fresh one") from None
            raise


def _provision(pool: SessionPool, stack_set: StackSet) -> Provisioned:
    if stack_set.errors:
        raise HarnessError(f"the demo repo does not resolve: {stack_set.errors[0]}",
                           hint="fix the stack files first (stackharness describe stacks shows them)")
    instances = _dependency_order(stack_set)
    backends = create_backends(pool, instances)
    account_id = pool.client("sts").get_caller_identity()["Account"]
    states = {i.id: apply_instance(pool, i, account_id=account_id) for i in instances}
    log.info("provisioned %d instances into %s", len(states), ", ".join(b for b, _ in backends))
    return Provisioned(account_id=account_id, states=states, backends=backends)


def _dependency_order(stack_set: StackSet) -> list[ComponentInstance]:
    from harness.graph import DependencyGraph

    graph = DependencyGraph.build(stack_set)
    return [stack_set.get(i) for i in graph.order()]  # type: ignore[misc]


def apply_scenario(pool: SessionPool, stack_set: StackSet, provisioned: Provisioned, scenario: Scenario) -> None:
    """Make the scenario's out-of-band changes to the live resources."""
    with _writes(pool, f"drift scenario {scenario.name}"):
        for mutation in scenario.mutations:
            apply_mutation(pool, stack_set, provisioned.states, provisioned.account_id, scenario, mutation)


def run_drift_suite(config: HarnessConfig, *, workers: int = 0, extra: list[str] | None = None) -> int:
    """Run `pytest suites/test_drift.py` in a subprocess against the configured endpoint; its exit code.

    The run's `api_budget` and `inject_aws_faults` apply to this suite run only, never to provisioning.
    """
    if not (SUITES / "test_drift.py").is_file():
        raise HarnessError("the suites folder is not available", where=SUITES,
                           hint="run the demo from a source checkout of stackharness")
    command = [sys.executable, "-m", "pytest", str(SUITES / "test_drift.py"), "-q", "--tb=no", "-p", "no:cacheprovider",
               "--stacks-repo", str(config.stacks_repo), "--report-dir", str(config.report_dir),
               "--drift-json", str(config.drift_json_path), "--drift-report", str(config.drift_report_path),
               "--history-dir", str(config.history_path)]
    if config.aws_endpoint_url:
        command += ["--aws-endpoint-url", config.aws_endpoint_url]
    if workers:
        command += ["-n", str(workers)]
    command += aws_access_options(config)
    command += extra or []
    log.debug("running %s", " ".join(command))
    return subprocess.run(command, cwd=SOURCE_ROOT, env=dict(os.environ), check=False).returncode


def aws_access_options(config: HarnessConfig) -> list[str]:
    """The run's `--api-budget` and `--inject-aws-faults`, for the drift suite (provisioning has neither)."""
    options = []
    if config.api_budget is not None:
        options += ["--api-budget", str(config.api_budget)]
    if config.inject_aws_faults:
        options += ["--inject-aws-faults", config.inject_aws_faults]
    return options


def check_outcome(config: HarnessConfig, scenario: Scenario) -> tuple[ScenarioOutcome, dict[str, Any]]:
    """Compare the run's drift.json with the scenario's expected findings."""
    document = read_document(config.drift_json_path)
    return compare_outcome(scenario, document["findings"], document["errors"]), document


def prepare_scenario(config: HarnessConfig, scenario: Scenario) -> Provisioned:
    """Provision the scenario's repo into `config.aws_endpoint_url` (which must be empty, e.g. a fresh
    moto) and make its out-of-band changes."""
    config = config.with_overrides(stacks_repo=scenario.repo)
    pool = SessionPool(config)
    stack_set = load(scenario.repo, config)
    provisioned = provision(pool, stack_set)
    apply_scenario(pool, stack_set, provisioned, scenario)
    return provisioned


def run_scenario(config: HarnessConfig, scenario: Scenario, *, workers: int = 0,
                 extra: list[str] | None = None) -> tuple[ScenarioOutcome, dict[str, Any]]:
    """Prepare the scenario, run the drift suite (a pytest subprocess) and compare its findings with the
    expectation exactly."""
    prepare_scenario(config, scenario)
    config = config.with_overrides(stacks_repo=scenario.repo)
    code = run_drift_suite(config, workers=workers, extra=extra)
    if code not in (0, 1):
        raise HarnessError(f"the drift suite did not run cleanly (pytest exit {code})", where=scenario.source,
                           hint="rerun with -v to see pytest's output")
    return check_outcome(config, scenario)
