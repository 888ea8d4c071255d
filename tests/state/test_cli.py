"""`stackharness locks list|clean` and `state verify` on a small Atmos repo and the moto server."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from harness.cli import main
from harness.state.layout import lock_item_id, lockfile_key
from tests.atmos import atmos_yaml
from tests.state.helpers import lock_info, make_instance, put_state, state_json

ATMOS = atmos_yaml(name_pattern="{stage}", exclude_defaults=False)
DEV = """
vars: {stage: dev}
settings: {stackharness: {environment_type: dev}}
terraform:
  backend_type: s3
  backend:
    s3: {bucket: tfstate, key: terraform.tfstate, dynamodb_table: tf-locks, region: us-east-1}
components:
  terraform:
    app: {}
    db:
      backend: {s3: {use_lockfile: true}}
"""
HARNESS = """
profiles:
  dev: {lock_stale_after: 1h}
"""


@pytest.fixture
def repo(tmp_path, backend):
    root = tmp_path / "repo"
    files = {"atmos.yaml": ATMOS, "stacks/deploy/dev.yaml": DEV, "stackharness.yaml": HARNESS}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root


@pytest.fixture
def cli(repo, backend, tmp_path, capsys):
    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args, "--stacks-repo", str(repo), "--aws-endpoint-url", backend.endpoint,
                     "--report-dir", str(tmp_path / "reports")])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def _seed_locks(backend):
    now = datetime.now(UTC)
    backend.dynamodb.put_item(TableName="tf-locks", Item={
        "LockID": {"S": lock_item_id("tfstate", "app/dev/terraform.tfstate")},
        "Info": {"S": lock_info(lock_id="stale-1", created=now - timedelta(hours=3))}})
    backend.s3.put_object(Bucket="tfstate", Key=lockfile_key("db/dev/terraform.tfstate"),
                          Body=lock_info(lock_id="held-1", created=now - timedelta(minutes=5)))
    backend.s3.put_object(Bucket="tfstate", Key=lockfile_key("gone/dev/terraform.tfstate"),
                          Body=lock_info(lock_id="orphan-1", created=now - timedelta(days=2)))
    backend.dynamodb.put_item(TableName="tf-locks", Item={
        "LockID": {"S": lock_item_id("tfstate", "db/dev/terraform.tfstate")}, "Info": {"S": "{oops"}})


def _lock_count(backend):
    items = [i for i in backend.dynamodb.scan(TableName="tf-locks")["Items"]
             if not i["LockID"]["S"].endswith("-md5")]
    files = [o for o in backend.s3.list_objects_v2(Bucket="tfstate").get("Contents", [])
             if o["Key"].endswith(".tflock")]
    return len(items) + len(files)


def test_locks_list_json(cli, backend):
    _seed_locks(backend)
    code, out, err = cli("locks", "list", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert {(r["instance"], r["lock_kind"], r["verdict"]) for r in rows} == {
        ("app@dev", "dynamodb", "stale"), ("db@dev", "s3", "held"), (None, "s3", "orphaned"),
        ("db@dev", "dynamodb", "malformed")}
    assert all(set(r) == {"instance", "state_key", "lock_kind", "lock_id", "operation", "who", "created",
                          "age_s", "verdict"} for r in rows)
    assert "malformed lock dynamodb://tf-locks/tfstate/db/dev/terraform.tfstate" in err


def test_locks_list_table_is_plain_when_piped(cli, backend):
    _seed_locks(backend)
    code, out, _ = cli("locks", "list", "--older-than", "1d")
    assert code == 0
    header, *lines = out.splitlines()
    assert header.split() == ["instance", "lock_kind", "state_key", "lock_id", "operation", "who", "age",
                              "verdict"]
    assert any("app@dev" in line and line.split()[-1] == "held" for line in lines)   # 3h < 1d
    assert any(line.split()[-1] == "orphaned" for line in lines)


def test_locks_clean_is_a_dry_run_without_yes(cli, backend, tmp_path):
    _seed_locks(backend)
    code, out, _ = cli("locks", "clean")
    assert code == 0
    assert "would remove 1 lock(s)" in out and "stale-1" in out
    assert "malformed" in out
    assert _lock_count(backend) == 4
    assert not (tmp_path / "reports" / "lock-audit.jsonl").exists()


def test_locks_clean_yes_removes_stale_and_audits(cli, backend, tmp_path):
    _seed_locks(backend)
    put_state(backend.s3, make_instance("app", "dev"), state_json(), dynamodb=backend.dynamodb)
    code, out, err = cli("locks", "clean", "--yes")
    assert code == 0, err
    assert "removed 1 of 1 lock(s)" in out
    assert "removed stale lock stale-1" in err                        # the WARNING line
    assert _lock_count(backend) == 3
    audit = (tmp_path / "reports" / "lock-audit.jsonl").read_text()
    [entry] = [json.loads(line) for line in audit.splitlines()]
    assert entry["lock"]["ID"] == "stale-1" and entry["instance"] == "app@dev"
    assert backend.s3.get_object(Bucket="tfstate", Key="app/dev/terraform.tfstate")   # the state stays

    code, out, _ = cli("locks", "clean", "--yes", "--include-orphaned")
    assert code == 0 and "removed 1 of 1 lock(s)" in out
    assert _lock_count(backend) == 2                                   # held + malformed remain


def test_locks_clean_rejects_an_unknown_instance(cli, backend):
    code, _, err = cli("locks", "clean", "--instance", "ap@dev")
    assert code == 2
    assert "unknown instance 'ap@dev'" in err and "did you mean 'app@dev'" in err


def test_bad_duration_is_a_usage_error(cli, capsys):
    with pytest.raises(SystemExit) as caught:
        cli("locks", "list", "--older-than", "soon")
    assert caught.value.code == 2
    assert "is not a duration" in capsys.readouterr().err


def test_unreadable_lock_table_exits_2(cli, backend):
    backend.dynamodb.delete_table(TableName="tf-locks")
    code, _, err = cli("locks", "list")
    assert code == 2 and "ResourceNotFound" in err


def test_state_verify(cli, backend):
    app_body = state_json(serial=2)
    backend.s3.put_object(Bucket="tfstate", Key="app/dev/terraform.tfstate", Body=app_body)
    backend.s3.put_object(Bucket="tfstate", Key="db/dev/terraform.tfstate", Body=state_json())
    code, out, err = cli("state", "verify", "--format", "json")
    assert code == 0, (out, err)
    rows = json.loads(out)
    assert {r["status"] for r in rows} == {"ok"}
    assert {r["instance"] for r in rows} == {"app@dev", "db@dev"}

    backend.dynamodb.put_item(TableName="tf-locks", Item={
        "LockID": {"S": "tfstate/app/dev/terraform.tfstate-md5"}, "Digest": {"S": "f" * 32}})
    backend.s3.put_object(Bucket="tfstate", Key="old/dev/terraform.tfstate", Body=state_json())
    code, out, _ = cli("state", "verify")
    assert code == 1
    lines = out.splitlines()
    assert any(line.startswith("app@dev") and " digest " in line and " fail " in line for line in lines)
    assert any(line.startswith("-") and "old/dev/terraform.tfstate" in line for line in lines)
    assert lines[-1].endswith("1 fail")


def _smallest_sufficient_budget(cli, *args: str) -> int:
    for budget in range(60):
        if cli(*args, "--api-budget", str(budget))[0] != 2:
            return budget
    raise AssertionError("no budget up to 60 was enough")


def test_state_verify_past_the_api_budget_reports_what_was_not_checked_and_exits_2(cli, backend):
    for key in ("app/dev/terraform.tfstate", "db/dev/terraform.tfstate", "old/dev/terraform.tfstate"):
        backend.s3.put_object(Bucket="tfstate", Key=key, Body=state_json())
    args = ("state", "verify", "--format", "json")
    enough = _smallest_sufficient_budget(cli, *args)
    assert enough > 3 and cli(*args, "--api-budget", str(enough))[0] == 0
    for budget in range(enough):
        code, out, err = cli(*args, "--api-budget", str(budget))
        assert code == 2, (budget, err)                                 # never clean, never aborted
        rows = json.loads(out)
        unchecked = [r for r in rows if r["detail"].startswith("not checked:") and "API budget of" in r["detail"]]
        assert unchecked and all(r["status"] == "fail" for r in unchecked), budget
        assert {"app@dev", "db@dev"} <= {r["instance"] for r in rows}, budget
    # One call short: every instance row was computed, only the orphan listing was not made.
    rows = json.loads(cli(*args, "--api-budget", str(enough - 1))[1])
    assert [(r["instance"], r["check"]) for r in rows if r["status"] == "fail"] == [(None, "orphan")]
    assert sum(r["status"] == "ok" for r in rows) >= 10
    code, out, _ = cli("state", "verify", "--api-budget", "0")
    assert code == 2 and "check(s) not made: the API budget is spent" in out


def test_locks_list_past_the_api_budget_keeps_the_locks_read_and_exits_2(cli, backend):
    _seed_locks(backend)
    enough = _smallest_sufficient_budget(cli, "locks", "list", "--format", "json")
    def locks(out: str) -> set[tuple]:
        return {(r["instance"], r["lock_kind"], r["lock_id"], r["verdict"]) for r in json.loads(out)}

    full = locks(cli("locks", "list", "--format", "json")[1])
    for budget in range(enough):
        code, out, err = cli("locks", "list", "--format", "json", "--api-budget", str(budget))
        assert code == 2 and "not fully read: API budget of" in err, budget
        assert locks(out) < full, budget
    kept = locks(cli("locks", "list", "--format", "json", "--api-budget", str(enough - 1))[1])
    assert {lock for lock in full if lock[1] == "dynamodb"} < kept     # the table, then part of the bucket
    code, out, _ = cli("locks", "list", "--api-budget", "0")
    assert code == 2 and "no locks found in the backends that could be read" in out
    assert "not read:" in out and "its locks are unknown" in out
