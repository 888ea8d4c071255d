"""Notifications: a JSON summary POSTed to a local webhook and published through SNS on moto, redacted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.aws.context import AwsContext
from harness.cli import main
from harness.config import load_config
from harness.errors import ReadOnlyViolation
from harness.log import Redactor
from harness.report.drift_json import write_json
from harness.report.history import analyse
from harness.report.notify import NotifyError, artifact_link, notify, publish_sns, summary
from tests.report.conftest import WEBHOOK_PATH_CANARY
from tests.report.test_history import three_runs
from tests.report.test_merge import document, result

SUMMARY_KEYS = {"source", "status", "repo", "started", "finished", "new", "recurring", "resolved", "errors",
                "changed", "missing", "unmanaged", "suppressed", "instances", "link", "text"}


@pytest.mark.slow
def test_a_run_with_notify_webhook_posts_the_summary_at_session_end(demo_run):
    posts = [p for p in demo_run.webhook.received if p["path"].startswith("/hooks/demo-run")]
    assert len(posts) == 1, demo_run.stdout
    body = posts[0]["body"]
    assert set(body) == SUMMARY_KEYS and posts[0]["headers"]["Content-Type"] == "application/json"
    findings = demo_run.document["findings"]
    assert (body["status"], body["recurring"], body["resolved"], body["errors"]) == ("drift", 0, 0, 0)
    assert body["new"] == len(findings) == 4                              # the first run in its history
    assert (body["changed"], body["missing"]) == (3, 1) == tuple(demo_run.document["summary"][k]
                                                                 for k in ("changed", "missing"))
    assert body["link"] == (demo_run.report_dir / "drift-report.html").resolve().as_uri()
    assert "notified webhook http://127.0.0.1" in demo_run.stdout
    for secret in ("canary-webhook-token", WEBHOOK_PATH_CANARY):          # neither query nor path is printed
        assert secret not in demo_run.stdout
        for path in demo_run.report_dir.rglob("*"):                       # nor written to any report or log
            assert not path.is_file() or secret not in path.read_text(errors="replace"), path
    assert demo_run.sns_messages == [body]                                # the same summary through SNS
    assert "notified SNS topic arn:aws:sns:us-east-1:" in demo_run.stdout


def test_summary_counts_and_secrets_are_redacted_in_the_post(webhook):
    document = three_runs()[2]
    document["run"]["repo"] = "/repos/canary-notify-secret"
    payload = summary(document, analyse(three_runs()), link="https://ci.example/run/1")
    assert (payload["new"], payload["recurring"], payload["resolved"], payload["errors"]) == (2, 2, 2, 1)
    assert payload["status"] == "error"
    before = len(webhook.received)
    lines = notify(payload, webhook=webhook.url, sns_topic=None, pool=None,
                   redactor=Redactor(["canary-notify-secret"]))
    assert lines == [f"notified webhook http://127.0.0.1:{webhook.url.split(':')[2].split('/')[0]}/… (HTTP 204)"]
    posted = webhook.received[before]["body"]
    assert posted["repo"] == "/repos/[redacted]" and "canary-notify-secret" not in json.dumps(posted)


def test_an_unreachable_webhook_is_reported_not_raised():
    lines = notify({"text": "x"}, webhook="http://127.0.0.1:9/hook?token=canary-x", sns_topic=None, pool=None,
                   redactor=Redactor())
    assert len(lines) == 1 and lines[0].startswith("notification failed:") and "canary-x" not in lines[0]


def shard_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "shard-1"
    write_json(folder / "drift.json", document([result("c0@s0", ["tags.A"], False, False, False)], shard="1/1"))
    return folder


def test_a_webhook_secret_in_the_path_reaches_no_output(tmp_path, capsys, caplog):
    url = "http://127.0.0.1:9/services/T0/B0/canary-slack-path"            # nothing listens on port 9
    code = main(["report", "merge", str(shard_folder(tmp_path)), "--output", str(tmp_path / "out"), "--no-history",
                 "--notify-webhook", url, "-v"])
    assert code == 0
    out, err = capsys.readouterr()
    assert "notification failed" in out + err and "http://127.0.0.1:9/…" in out + err
    written = [p.read_text(errors="replace") for p in (tmp_path / "out").rglob("*") if p.is_file()]
    for text in (out, err, caplog.text, *written):
        assert "canary-slack-path" not in text and "/services/T0" not in text


def test_sns_publish_on_moto_is_the_one_permitted_write(moto, raw):
    topic = raw("sns").create_topic(Name="drift-alerts")["TopicArn"]
    queue = raw("sqs").create_queue(QueueName="drift-inbox")["QueueUrl"]
    queue_arn = raw("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    raw("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    config = load_config({"aws_endpoint_url": moto}, cwd=Path.cwd(), environ={})
    redactor = Redactor(["canary-sns-secret"])
    pool = AwsContext.from_config(config, redactor=redactor).pool          # read-only, like a drift run's
    with pytest.raises(ReadOnlyViolation):
        pool.client("sns", region="us-east-1").publish(TopicArn=topic, Message="not allowed")
    message_id = publish_sns(pool, topic, {"text": "drift in canary-sns-secret", "new": 1}, redactor=redactor)
    assert message_id
    received = raw("sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"]
    envelope = json.loads(received[0]["Body"])
    assert json.loads(envelope["Message"]) == {"new": 1, "text": "drift in [redacted]"}
    with pytest.raises(NotifyError, match="not an SNS topic ARN"):
        publish_sns(pool, "arn:aws:sqs:us-east-1:1:x", {}, redactor=redactor)


def test_artifact_link_points_at_the_ci_run_or_the_file(tmp_path):
    report = tmp_path / "drift-report.html"
    assert artifact_link(report, {"GITHUB_RUN_ID": "9", "GITHUB_REPOSITORY": "acme/infra"}) == \
        "https://github.com/acme/infra/actions/runs/9"
    assert artifact_link(report, {"CI_JOB_URL": "https://gitlab.example/acme/-/jobs/4"}) == \
        "https://gitlab.example/acme/-/jobs/4/artifacts/browse"
    assert artifact_link(report, {}) == report.resolve().as_uri()
