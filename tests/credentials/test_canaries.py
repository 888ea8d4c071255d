"""No secret value is ever printed or written: planted canaries must appear in no output of any command."""

from __future__ import annotations

import json

import pytest

from harness.cli import main
from tests.credentials.helpers import make_cert
from tests.credentials.test_suite import run_suite

CONFIG = """\
rotation_store: s3://acme-tfstate/rotations/
certificate_sources:
  five.example.com: renewed-five.pem
  web-five: renewed-five.pem
profiles:
  prod:
    credentials:
      iam_access_key: {max_age_days: 0, warn_days: 0, grace_days: 0,
                       sink: {type: secretsmanager, name: "iam/{user}/access-key"}}
      secretsmanager_secret: {max_age_days: 0, warn_days: 0}
  default:
    credentials:
      iam_access_key: {max_age_days: 0, warn_days: 0, sink: {type: ssm, name: "/iam/{user}/access-key"}}
      secretsmanager_secret: {max_age_days: 0, warn_days: 0}
"""


@pytest.fixture
def planted(repo, seeded, aws):
    (repo / "stackharness.yaml").write_text(CONFIG)
    renewed = make_cert(400, cn="five.example.com", sans=("www.five.example.com",))
    (repo / "renewed-five.pem").write_text(renewed.cert_pem + renewed.key_pem)
    aws("secretsmanager").create_secret(Name="iam/alice/access-key", SecretString="canary-sink-old-3e9f01aa")
    return [*seeded.canaries, "canary-sink-old-3e9f01aa", renewed.key_pem.splitlines()[1],
            renewed.key_pem.splitlines()[2]]


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out + err


def test_no_secret_value_in_any_output(capsys, planted, repo, seeded, aws, tmp_path):
    reports = tmp_path / "reports"
    common = ("--stacks-repo", str(repo), "--aws-endpoint-url", seeded.endpoint, "--report-dir", str(reports), "-vv")
    outputs = []
    for args in (("creds", "check"), ("creds", "check", "--format", "json"), ("creds", "rotate", "--due"),
                 ("creds", "rotate", "--due", "--yes"), ("creds", "rotate", "--due", "--yes", "--format", "json"),
                 ("creds", "check", "--format", "json")):
        code, text = run(capsys, *args, *common)
        assert code in (0, 1, 2), text
        outputs.append(text)
    # The rotations really happened: new keys were handed over (their secrets are canaries too).
    delivered = json.loads(aws("secretsmanager").get_secret_value(SecretId="iam/alice/access-key")["SecretString"])
    ssm = json.loads(aws("ssm").get_parameter(Name="/iam/bob/access-key", WithDecryption=True)["Parameter"]["Value"])
    canaries = [*planted, delivered["SecretAccessKey"], ssm["SecretAccessKey"]]
    assert "waiting iam_access_key" in outputs[3] and "completed acm_certificate" in outputs[3]
    assert "failed" not in outputs[3]

    code, suite_output, = run_suite(repo, seeded.endpoint, reports)[::2]
    outputs.append(suite_output)
    files = {str(p.relative_to(reports)): p.read_text() for p in reports.rglob("*") if p.is_file()}
    assert {"rotation-audit.jsonl", "drift.json", "drift-report.html"} <= set(files)
    records = aws("s3").list_objects_v2(Bucket="acme-tfstate", Prefix="rotations/")["Contents"]
    assert records
    for obj in records:
        files[f"s3:{obj['Key']}"] = aws("s3").get_object(Bucket="acme-tfstate", Key=obj["Key"])["Body"].read().decode()
    leaks = [(where, canary[:12]) for canary in canaries
             for where, text in [*((f"output {i}", t) for i, t in enumerate(outputs)), *files.items()]
             if canary in text]
    assert leaks == []

