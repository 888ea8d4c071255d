"""Notifications of `creds check`: a webhook on a local HTTP server and an SNS topic on moto."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.cli import main


@pytest.fixture
def webhook():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "type": self.headers["Content-Type"], "body": json.loads(body)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


def check(capsys, seeded, repo, tmp_path, *extra):
    code = main(["creds", "check", "--stacks-repo", str(repo), "--aws-endpoint-url", seeded.endpoint,
                 "--report-dir", str(tmp_path / "reports"), "--format", "json", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_webhook_gets_the_non_ok_credentials(capsys, seeded, repo, tmp_path, webhook):
    url, received = webhook
    code, _, err = check(capsys, seeded, repo, tmp_path, "--notify-webhook", url)
    assert code == 1 and "not delivered" not in err
    [message] = received
    assert message["path"] == "/hook" and message["type"] == "application/json"
    body = message["body"]
    assert body["subject"] == "stackharness credential alert — 1 expired, 2 critical"
    statuses = {r["id"]: r["status"] for r in body["credentials"]}
    assert statuses["web-expired"] == "expired" and "ok" not in statuses.values()
    assert "web-expired" in body["text"]
    text = json.dumps(body)
    assert not [c for c in seeded.canaries if c in text]


def test_sns_topic_gets_the_alert(capsys, seeded, repo, tmp_path, aws):
    topic = aws("sns").create_topic(Name="creds-alerts")["TopicArn"]
    queue = aws("sqs").create_queue(QueueName="creds-alerts")["QueueUrl"]
    queue_arn = aws("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    code, _, err = check(capsys, seeded, repo, tmp_path, "--notify-sns-topic", topic)
    assert code == 1 and "not delivered" not in err
    [message] = aws("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    envelope = json.loads(message["Body"])
    assert envelope["Subject"].startswith("stackharness credential alert — 1 expired")
    assert "expired: iam_server_certificate web-expired" in envelope["Message"]
    assert not [c for c in seeded.canaries if c in message["Body"]]


def test_undeliverable_notification_warns_and_keeps_the_outcome(capsys, seeded, repo, tmp_path):
    code, _, err = check(capsys, seeded, repo, tmp_path, "--notify-webhook", "http://127.0.0.1:9/hook",
                         "--notify-sns-topic", "arn:aws:sns:us-east-1:123456789012:missing")
    assert code == 1
    assert "webhook notification failed" in err and "SNS notification failed" in err
