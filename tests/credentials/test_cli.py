"""`stackharness creds check|rotate` end to end on moto, with an Atmos repo on disk."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from harness.cli import main
from tests.credentials.conftest import CONFIG


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")     # rich folds table cells to the terminal width


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def check(capsys, seeded, repo, tmp_path, *extra):
    return run(capsys, "creds", "check", "--stacks-repo", str(repo), "--aws-endpoint-url", seeded.endpoint,
               "--report-dir", str(tmp_path / "reports"), *extra)


def test_check_json_shape_and_exit_code(capsys, seeded, repo, tmp_path):
    code, out, err = check(capsys, seeded, repo, tmp_path, "--format", "json")
    document = json.loads(out)
    assert code == 1, err                       # expired / critical rows
    assert set(document) == {"as_of", "credentials", "errors"} and document["errors"] == []
    rows = {r["id"]: r for r in document["credentials"]}
    assert rows["web-expired"]["status"] == "expired" and rows["web-expired"]["instance"] == "certs@acme-prod"
    assert rows[seeded.acm["five"]]["status"] == "critical"
    assert rows[seeded.acm["forty"]]["status"] == "ok"            # dev: warn at 10 days
    assert rows[seeded.acm["forty"]]["policy"] == {"profile": "dev", "warn_days": 10, "critical_days": 3}
    assert rows[seeded.keys["bob"]]["instance"] is None              # unmanaged
    assert rows[seeded.secrets["rotated"]]["status"] == "ok"
    assert rows["web-expired"]["region"] is None and rows[seeded.acm["five"]]["region"] == "us-east-1"
    key_row = rows[seeded.keys["alice"]]
    assert (key_row["arn"], key_row["expires_at"], key_row["days_left"], key_row["age_days"]) == (None, None, 90, 0)
    days = [r["days_left"] for r in document["credentials"] if r["days_left"] is not None]
    assert days == sorted(days)


def test_check_as_of_answers_what_will_have_expired(capsys, seeded, repo, tmp_path):
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=100)).date().isoformat()
    code, out, _ = check(capsys, seeded, repo, tmp_path, "--format", "json", "--as-of", later)
    document = json.loads(out)
    assert document["as_of"] == f"{later}T00:00:00Z"
    rows = {r["id"]: r for r in document["credentials"]}
    assert rows[seeded.acm["forty"]]["status"] == "expired"
    assert rows[seeded.keys["alice"]]["status"] == "overdue" and rows[seeded.keys["alice"]]["age_days"] in (99, 100)
    assert rows["web-long"]["status"] == "ok"
    # rotating every 30 days: by then it has rotated (age since the last scheduled rotation), not overdue
    rotated = rows[seeded.secrets["rotated"]]
    assert (rotated["status"], rotated["policy"]["max_age_days"]) == ("ok", 90) and rotated["age_days"] < 30
    assert rows[seeded.secrets["plain"]]["status"] == "overdue"        # no rotation: 100 days old
    assert code == 1


def test_check_table_and_clean_exit(capsys, seeded, repo, tmp_path, aws):
    code, out, _ = check(capsys, seeded, repo, tmp_path, "--stack", "acme-dev")
    assert "web-forty" in out and "(unmanaged)" in out and "1 expired, 2 critical" in out
    # only the dev stack's scope: the prod-only rows still show (same account and region) — so it fails
    assert code == 1
    earlier = (dt.datetime.now(dt.UTC) - dt.timedelta(days=3)).date().isoformat()
    code, out, _ = check(capsys, seeded, repo, tmp_path, "--as-of", earlier, "--component", "web")
    assert "web-expired" in out


def test_check_bad_as_of_is_a_usage_error(capsys, seeded, repo, tmp_path):
    with pytest.raises(SystemExit) as info:
        check(capsys, seeded, repo, tmp_path, "--as-of", "next tuesday")
    assert info.value.code == 2
    assert "is not a date" in capsys.readouterr().err


def test_check_config_typo_is_an_error_naming_the_key(capsys, seeded, repo, tmp_path):
    (repo / "stackharness.yaml").write_text(CONFIG.replace("warn_days: 14", "warn_dayz: 14"))
    code, _, err = check(capsys, seeded, repo, tmp_path)
    assert code == 2
    assert "profiles.prod.credentials.iam_access_key.warn_dayz" in err and "did you mean 'warn_days'" in err


def test_rotate_plan_then_yes(capsys, seeded, repo, tmp_path, aws):
    aws("secretsmanager").create_secret(Name="iam/alice/access-key", SecretString="{}")
    alice = seeded.keys["alice"]
    common = ("--stacks-repo", str(repo), "--aws-endpoint-url", seeded.endpoint,
              "--report-dir", str(tmp_path / "reports"))
    code, out, err = run(capsys, "creds", "rotate", "--id", alice, *common)
    assert code == 0, err
    assert "start iam_access_key" in out and "store it in secretsmanager:iam/alice/access-key" in out
    assert "nothing was changed" in out and len(aws("iam").list_access_keys(UserName="alice")["AccessKeyMetadata"]) == 1
    code, out, err = run(capsys, "creds", "rotate", "--id", alice, "--yes", "--format", "json", *common)
    assert code == 0, err
    [outcome] = json.loads(out)["outcomes"]
    assert (outcome["result"], outcome["state"]) == ("waiting", "deactivated")
    audit = (tmp_path / "reports" / "rotation-audit.jsonl").read_text().splitlines()
    assert any(json.loads(line)["action"] == "iam.create_access_key" for line in audit)


def test_rotate_refusals_and_usage(capsys, seeded, repo, tmp_path):
    common = ("--stacks-repo", str(repo), "--aws-endpoint-url", seeded.endpoint,
              "--report-dir", str(tmp_path / "reports"))
    code, _, err = run(capsys, "creds", "rotate", *common)
    assert code == 2 and "--id ID or --due" in err
    code, _, err = run(capsys, "creds", "rotate", "--id", "nope", *common)
    assert code == 2 and "no credential 'nope'" in err
    code, _, err = run(capsys, "creds", "rotate", "--id", seeded.kms["static"], *common)
    assert code == 2 and "not rotated by stackharness" in err
    # The expired server certificate is due but has no certificate source: refused in the plan (exit 1).
    code, out, _ = run(capsys, "creds", "rotate", "--due", "--kind", "iam_server_certificate", *common)
    assert code == 1 and "refused iam_server_certificate web-expired" in out and "no certificate source" in out


def test_check_unreadable_state_is_an_error_and_its_credentials_are_unlinked(capsys, seeded, repo, tmp_path, aws):
    aws("s3").put_object(Bucket="acme-tfstate", Key="certs/acme-prod/terraform.tfstate", Body=b"{not json")
    code, out, err = check(capsys, seeded, repo, tmp_path, "--format", "json")
    assert code == 2, err                        # incomplete: an error wins over the failing rows
    assert "stackharness: error: the state of certs@acme-prod could not be read" in err
    document = json.loads(out)
    [error] = document["errors"]
    assert (error["kind"], error["instance"], error["scope"]) == ("terraform_state", "certs@acme-prod",
                                                                  "default/us-east-1")
    rows = {r["id"]: r for r in document["credentials"]}
    # what certs@acme-prod may manage is unlinked and judged by its prod policy, not the default one
    expired = rows["web-expired"]
    assert (expired["instance"], expired["unlinked"], expired["status"]) == (None, ["certs@acme-prod"], "expired")
    plain = rows[seeded.secrets["plain"]]
    assert (plain["unlinked"], plain["policy"]["profile"], plain["status"]) == (
        ["certs@acme-prod"], "prod", "rotation_disabled")
    assert rows[seeded.acm["forty"]]["instance"] == "web@acme-dev" and rows[seeded.acm["forty"]]["unlinked"] == []
    code, out, _ = check(capsys, seeded, repo, tmp_path)
    assert code == 2 and "unlinked (state unreadable)" in out and "incomplete: 1 error(s)" in out


def test_check_api_budget_takes_effect(capsys, seeded, repo, tmp_path):
    """`--api-budget` goes through the access layer: what it leaves unread is an error, never clean."""
    code, out, _ = check(capsys, seeded, repo, tmp_path, "--format", "json", "--api-budget", "2")
    assert code == 2
    errors = json.loads(out)["errors"]
    assert errors and any("budget" in e["message"].lower() for e in errors), errors
