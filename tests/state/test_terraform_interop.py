"""Interop with the real `terraform` binary (1.11) on the moto server: states it wrote, locks it holds,
locks a killed apply left behind, the list/delete race, and digests exactly where Terraform fails."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from harness.log import Redactor
from harness.state.cleanup import AuditLog, clean_locks, plan_cleanup
from harness.state.hold import hold_state_lock
from harness.state.layout import digest_item_id, lock_item_id
from harness.state.locks import discover_locks
from harness.state.reader import list_workspaces, read_state
from harness.state.verify import verify_states
from tests.state.helpers import make_instance
from tests.tf import TerraformDir, live_members, own_lock_race, requires_terraform, wait_for

pytestmark = [requires_terraform, pytest.mark.terraform]

KEY = "terraform.tfstate"
PREFIX = "app"


@pytest.fixture
def app_dir(backend, terraform_dirs):
    """An initialised working dir: S3 state, DynamoDB lock + digest, S3 lock file, prefix `app`."""
    tf = terraform_dirs("app", backend.endpoint, bucket=backend.bucket, key=KEY,
                        dynamodb_table=backend.table, use_lockfile=True, workspace_key_prefix=PREFIX)
    tf.init()
    return tf


def _instance(workspace="default"):
    """The instance whose state `app_dir` holds in `workspace` (Atmos: prefix = component)."""
    return make_instance("app", "dev" if workspace == "default" else workspace, workspace=workspace,
                         use_lockfile=True, workspace_key_prefix=PREFIX)


def _gated(tf, name="gate", run="1"):
    gate, started = tf.path / f"{name}.open", tf.path / f"{name}.started"
    tf.write_main(TerraformDir.data_resource("x", "v1") + TerraformDir.gated_resource(
        "slow", gate, started, run=run) + 'variable "run" {\n  default = "1"\n}\n')
    return gate, started


def _start_gated_apply(tf, name="gate", run="1"):
    gate, started = _gated(tf, name, run)
    process = tf.start("apply", "-auto-approve", "-input=false", f"-var=run={run}", log_name=f"{name}.log")
    wait_for(lambda: started.exists() or process.popen.poll() is not None, timeout=120,
             what="the apply's local-exec to start")
    assert process.popen.poll() is None, process.output
    return process, gate


def test_reads_states_terraform_wrote_in_default_and_named_workspaces(backend, app_dir):
    app_dir.write_main(TerraformDir.data_resource("x", "default-value", sensitive_output="s3cr3t-default"))
    app_dir.run("apply", "-auto-approve", "-input=false")
    app_dir.run("workspace", "new", "dev")
    app_dir.write_main(TerraformDir.data_resource("x", "dev-value", sensitive_output="s3cr3t-dev"))
    app_dir.run("apply", "-auto-approve", "-input=false")

    workspaces = list_workspaces(backend.s3, backend.bucket, KEY, workspace_key_prefix=PREFIX)
    assert workspaces == {"default": KEY, "dev": "app/dev/terraform.tfstate"}
    listed = app_dir.run("workspace", "list").stdout.replace("*", "").split()
    assert sorted(listed) == sorted(workspaces)

    redactor = Redactor()
    for workspace, value in (("default", "default-value"), ("dev", "dev-value")):
        state = read_state(backend.s3, backend.bucket, workspaces[workspace], redactor=redactor)
        assert state.version == 4 and state.terraform_version.startswith("1.")
        assert state.lineage and state.serial >= 1
        [resource] = state.resources
        assert resource.address == "terraform_data.x"
        assert resource.attributes["input"]["value"] == value      # terraform_data wraps dynamic values
    assert redactor.redact("s3cr3t-default s3cr3t-dev") == "[redacted] [redacted]"

    instances = [_instance("default"), _instance("dev")]
    rows = verify_states(instances, backend.pool, config=backend.config, known_types=())
    assert {(r.instance, r.check): r.status for r in rows} == {
        (i.id, check): "ok" for i in instances
        for check in ("parse", "version", "digest", "serial", "lineage", "unchecked_types")}
    assert discover_locks(instances, backend.pool, config=backend.config).rows == ()


@pytest.mark.slow
def test_detects_the_locks_of_a_running_apply(backend, app_dir):
    process, gate = _start_gated_apply(app_dir)

    rows = discover_locks([_instance()], backend.pool, config=backend.config).rows

    assert {(r.instance, r.lock_kind, r.verdict, r.operation) for r in rows} == {
        ("app@dev", "dynamodb", "held", "OperationTypeApply"),
        ("app@dev", "s3", "held", "OperationTypeApply")}
    assert len({r.lock_id for r in rows}) == 1                     # one Terraform lock, two records
    assert plan_cleanup(rows) == ()
    gate.touch()
    assert process.wait() == 0, process.output
    assert discover_locks([_instance()], backend.pool, config=backend.config).rows == ()


@pytest.mark.slow
def test_cleans_the_locks_of_a_killed_apply_then_terraform_plans(backend, app_dir):
    app_dir.write_main(TerraformDir.data_resource("x", "v1"))
    app_dir.run("apply", "-auto-approve", "-input=false")           # a state and digest to protect
    process, _ = _start_gated_apply(app_dir)
    process.kill()
    assert live_members(process.popen.pid) == []                  # its local-exec child died too
    blocked = app_dir.run("plan", "-input=false", "-lock-timeout=0s", check=False)
    assert blocked.returncode != 0 and "Error acquiring the state lock" in blocked.stdout + blocked.stderr

    later = datetime.now(UTC) + timedelta(hours=3)                # past the default 2h threshold
    rows = discover_locks([_instance()], backend.pool, config=backend.config, as_of=later).rows
    assert {r.verdict for r in rows} == {"stale"} and len(rows) == 2
    audit = AuditLog(backend.config.report_dir / "lock-audit.jsonl", Redactor())
    outcomes = clean_locks(plan_cleanup(rows), backend.pool, audit)

    assert [o.result for o in outcomes] == ["removed", "removed"]
    assert len(audit.path.read_text().splitlines()) == 2
    rows = verify_states([_instance()], backend.pool, config=backend.config, known_types=())
    assert {r.check: r.status for r in rows}["digest"] == "ok"   # state and digest untouched
    plan = app_dir.run("plan", "-input=false", "-lock-timeout=0s", check=False)
    assert plan.returncode == 0, plan.stdout + plan.stderr


@pytest.mark.slow
def test_leaves_alone_a_lock_reacquired_between_list_and_delete(backend, app_dir):
    first, first_gate = _start_gated_apply(app_dir, "first", run="1")
    rows = discover_locks([_instance()], backend.pool, config=backend.config, older_than=0).rows
    plan = plan_cleanup(rows)
    assert len(plan) == 2                                           # forced: a tiny threshold
    # The listed apply finishes; another apply takes the state before the delete runs.
    first_gate.touch()
    assert first.wait() == 0, first.output
    second, second_gate = _start_gated_apply(app_dir, "second", run="2")

    outcomes = clean_locks(plan, backend.pool, AuditLog(backend.config.report_dir / "a.jsonl"))

    assert [o.result for o in outcomes] == ["changed", "changed"]
    now = discover_locks([_instance()], backend.pool, config=backend.config).rows
    assert len(now) == 2 and {r.lock_id for r in now}.isdisjoint({r.lock_id for r in plan})
    second_gate.touch()
    assert second.wait() == 0, second.output


@pytest.mark.slow
def test_digest_check_flags_exactly_where_terraform_fails(backend, app_dir):
    """One workspace per kind of damage; Terraform loads them all at once (a bad digest costs it ~10 s)."""
    cases = ("wrong-md5", "state-deleted", "not-hex", "empty", "uppercase", "intact")
    app_dir.write_main(TerraformDir.data_resource("x", "v1"))
    for case in cases:
        app_dir.run("workspace", "new", case)
        app_dir.run("apply", "-auto-approve", "-input=false", env={"TF_WORKSPACE": case})
    for case in cases:
        instance = _instance(case)
        item_id = digest_item_id(backend.bucket, instance.state_key)
        correct = backend.dynamodb.get_item(TableName=backend.table,
                                            Key={"LockID": {"S": item_id}})["Item"]["Digest"]["S"]
        digest = {"wrong-md5": "0" * 32, "not-hex": "zz-not-a-digest", "empty": "",
                  "uppercase": correct.upper()}.get(case, correct)
        backend.dynamodb.put_item(TableName=backend.table,
                                  Item={"LockID": {"S": item_id}, "Digest": {"S": digest}})
        if case == "state-deleted":
            backend.s3.delete_object(Bucket=backend.bucket, Key=instance.state_key)

    rows = verify_states([_instance(c) for c in cases], backend.pool, config=backend.config, known_types=())
    plans = {case: app_dir.start("plan", "-input=false", "-lock=false", log_name=f"plan-{case}.log",
                                 env={"TF_WORKSPACE": case}) for case in cases}
    for case, plan in plans.items():
        plan.wait(timeout=300)
        lock_id = own_lock_race(plan.output)
        if lock_id:   # moto's retried lock write (see tests/tf.py): unlock and run this plan again
            app_dir.run("force-unlock", "-force", lock_id, env={"TF_WORKSPACE": case})
            plans[case] = app_dir.start("plan", "-input=false", "-lock=false", log_name=f"plan-{case}-2.log",
                                        env={"TF_WORKSPACE": case})
    terraform_failed = {case: plan.wait(timeout=300) != 0 for case, plan in plans.items()}

    ours = {r.instance: r.status for r in rows if r.check == "digest"}
    assert {case: ours[_instance(case).id] == "fail" for case in cases} == terraform_failed
    assert terraform_failed == {case: case in ("wrong-md5", "state-deleted") for case in cases}
    for case in ("wrong-md5", "state-deleted"):
        assert "does not have the expected content" in plans[case].output
    assert ours[_instance("not-hex").id] == ours[_instance("empty").id] == "warn"


@pytest.mark.slow
def test_terraform_waits_for_the_harness_lock(backend, app_dir):
    app_dir.write_main(TerraformDir.data_resource("x", "v1"))
    with hold_state_lock(backend.dynamodb, backend.table, lock_item_id(backend.bucket, KEY)) as lock:
        blocked = app_dir.run("plan", "-input=false", "-lock-timeout=0s", check=False)
        output = blocked.stdout + blocked.stderr
        assert blocked.returncode != 0
        assert "stackharness-check" in output and lock.id in output
    # Terraform released its own S3 lock file after failing on ours; nothing is left behind.
    assert discover_locks([_instance()], backend.pool, config=backend.config).rows == ()
    assert app_dir.run("plan", "-input=false", "-lock-timeout=0s", check=False).returncode == 0
    assert json.loads(lock.to_json())["Operation"] == "stackharness-check"


@pytest.mark.slow
def test_an_apply_waits_until_the_harness_releases_its_lock(backend, app_dir):
    app_dir.write_main(TerraformDir.data_resource("x", "v2"))
    with hold_state_lock(backend.dynamodb, backend.table, lock_item_id(backend.bucket, KEY)):
        apply = app_dir.start("apply", "-auto-approve", "-input=false", "-lock-timeout=120s")
        wait_for(lambda: "Acquiring state lock" in apply.output, timeout=60,
                 what="the apply to ask for the lock")
        time.sleep(1)
        assert apply.popen.poll() is None, apply.output               # it cannot pass our lock
        assert _state_object(backend) is None                    # and has written nothing
    assert apply.wait() == 0, apply.output
    assert read_state(backend.s3, backend.bucket, KEY).resources[0].attributes["input"]["value"] == "v2"


def _state_object(backend):
    objects = backend.s3.list_objects_v2(Bucket=backend.bucket).get("Contents", [])
    return next((o for o in objects if o["Key"] == KEY), None)
