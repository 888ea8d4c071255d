"""`pytest suites/test_credentials.py`: items per instance and per scope, drift.json `credentials`, HTML section."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.credentials.conftest import CONFIG

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "suites" / "test_credentials.py"


def run_suite(repo: Path, endpoint: str, reports: Path, *extra: str) -> tuple[int, dict[str, str], str]:
    junit = reports / "junit.xml"
    command = [sys.executable, "-m", "pytest", str(SUITE), "-q", "-p", "no:cacheprovider", "-rA",
               "--stacks-repo", str(repo), "--aws-endpoint-url", endpoint, "--report-dir", str(reports),
               f"--junitxml={junit}", *extra]
    done = subprocess.run(command, cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=300,
                          check=False)
    outcomes = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = case.get("name", "")
        result = "passed"
        for tag in ("failure", "error", "skipped"):
            if case.find(tag) is not None:
                result = tag
        outcomes[name] = result
    return done.returncode, outcomes, done.stdout + done.stderr


EXPECTED = {
    "test_credentials[certs@acme-prod]": "failure",          # expired server certificate, critical ACM one
    "test_credentials[iam@acme-prod]": "passed",
    "test_credentials[web@acme-dev]": "passed",              # expiring under dev's warn_days 45: a warning
    "test_unmanaged_credentials[default/global]": "failure",  # web-five: 5 days left, critical
    "test_unmanaged_credentials[default/us-east-1]": "passed",
}


@pytest.fixture
def suite_repo(repo):
    (repo / "stackharness.yaml").write_text(CONFIG.replace("{warn_days: 10, critical_days: 3}",
                                                           "{warn_days: 45, critical_days: 3}"))
    return repo


def test_items_per_instance_and_scope(suite_repo, seeded, tmp_path):
    reports = tmp_path / "reports"
    code, outcomes, output = run_suite(suite_repo, seeded.endpoint, reports)
    assert outcomes == EXPECTED, output
    assert code == 1
    assert "web-expired" in output and "expired, critical, overdue or not rotating" in output
    assert "CredentialWarning" in output and "forty.example.com" in output     # the dev warning
    document = json.loads((reports / "drift.json").read_text())
    rows = document["credentials"]
    assert len(rows) == len({(r["kind"], r["id"]) for r in rows}) == 13
    assert rows[0]["id"] == "web-expired" and rows[0]["status"] == "expired"
    days = [r["days_left"] for r in rows if r["days_left"] is not None]
    assert days == sorted(days) and rows[-1]["days_left"] is None
    by_id = {r["id"]: r for r in rows}
    assert by_id[seeded.acm["forty"]]["instance"] == "web@acme-dev"
    assert by_id[seeded.acm["forty"]]["status"] == "expiring"
    assert by_id[seeded.keys["bob"]]["instance"] is None
    html = (reports / "drift-report.html").read_text()
    section = html[html.index('<section id="credentials">'):]
    assert section.index("web-expired") < section.index("five.example.com") < section.index("forty.example.com")
    assert 'data-status="expired"' in section and "(unmanaged)" in section


@pytest.mark.slow
def test_xdist_workers_send_the_same_facts(suite_repo, seeded, tmp_path):
    reports = tmp_path / "reports"
    _, outcomes, output = run_suite(suite_repo, seeded.endpoint, reports, "-n", "2")
    assert outcomes == EXPECTED, output
    rows = json.loads((reports / "drift.json").read_text())["credentials"]
    assert len(rows) == 13 and rows[0]["id"] == "web-expired"


def test_a_run_that_found_no_credentials_says_so(moto, aws, tmp_path):
    """Checked, none found: drift.json has `credentials: []` and the report a section saying so."""
    from harness.stacks import load
    from tests.credentials.helpers import create_bucket, write_repo, write_state

    root = tmp_path / "repo"
    root.mkdir()
    write_repo(root, {"dev": ("dev", ["web"])}, extra_config=CONFIG)
    create_bucket(aws("s3"))
    [web] = list(load(root))
    write_state(aws("s3"), web, [("aws_sqs_queue", "q", {"id": "https://q", "name": "q"})])
    reports = tmp_path / "reports"
    code, outcomes, output = run_suite(root, moto, reports)
    assert code == 0 and set(outcomes.values()) == {"passed"} and outcomes, output
    assert "credentials checked — none found" in output
    assert json.loads((reports / "drift.json").read_text())["credentials"] == []
    html = (reports / "drift-report.html").read_text()
    section = html[html.index('<section id="credentials">'):]
    assert 'id="credentials-none"' in section and 'class="credential"' not in section


def test_unreadable_state_suite_and_creds_check_agree(suite_repo, seeded, tmp_path, aws, capsys):
    """A corrupt state: its item is an error, what it may manage is unlinked, judged as `creds check` does."""
    from harness.cli import main

    aws("s3").put_object(Bucket="acme-tfstate", Key="certs/acme-prod/terraform.tfstate", Body=b"{not json")
    reports = tmp_path / "reports"
    code, outcomes, output = run_suite(suite_repo, seeded.endpoint, reports)
    assert outcomes["test_credentials[certs@acme-prod]"] == "error", output
    assert outcomes["test_unmanaged_credentials[default/us-east-1]"] == "failure"   # five: critical under prod
    assert code == 1 and "unlinked (state unreadable)" in output
    suite_rows = {r["id"]: r for r in json.loads((reports / "drift.json").read_text())["credentials"]}
    assert main(["creds", "check", "--stacks-repo", str(suite_repo), "--aws-endpoint-url", seeded.endpoint,
                 "--report-dir", str(tmp_path / "cli"), "--format", "json"]) == 2
    cli_rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)["credentials"]}
    assert cli_rows.keys() == suite_rows.keys()
    for key, row in cli_rows.items():
        assert suite_rows[key] == row, key
    assert suite_rows[seeded.secrets["plain"]]["unlinked"] == ["certs@acme-prod"]
    assert suite_rows[seeded.secrets["plain"]]["status"] == "rotation_disabled"      # prod's policy
    html = (reports / "drift-report.html").read_text()
    assert "unlinked (state unreadable)" in html[html.index('<section id="credentials">'):]
