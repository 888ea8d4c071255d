"""Shared parts of the report tests: the demo provisioned on moto, the drift suite run in a subprocess,
and a local webhook receiver (a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from harness.aws.session import SessionPool
from harness.config import load_config
from harness.demo import DEFAULT_SCENARIO, SOURCE_ROOT, apply_scenario, provision
from harness.drift.scenarios import load_scenario
from harness.embedded import reset_moto
from harness.stacks import load

DEMO_REPO = SOURCE_ROOT / "fixtures" / "demo"
WEBHOOK_PATH_CANARY = "canary-webhook-path-T0B0"   # a Slack-style secret in the webhook's path


def run_suite(endpoint: str, report_dir: Path, *extra: str, suites: str = "suites/test_drift.py"
              ) -> subprocess.CompletedProcess:
    """`pytest suites/test_drift.py` against the demo on `endpoint`, reports into `report_dir`."""
    command = [sys.executable, "-m", "pytest", str(SOURCE_ROOT / suites), "-q", "-p", "no:cacheprovider",
               "--stacks-repo", str(DEMO_REPO), "--aws-endpoint-url", endpoint, "--report-dir", str(report_dir),
               *extra]
    return subprocess.run(command, cwd=SOURCE_ROOT, capture_output=True, text=True, env=dict(os.environ),
                          timeout=300, check=False)


def provision_demo(endpoint: str, *, drift: bool = True) -> tuple[Any, Any, Any]:
    """The demo repo on a (reset) moto endpoint, with the demo scenario's drift; (stack set, provisioned, pool)."""
    config = load_config({"aws_endpoint_url": endpoint, "stacks_repo": str(DEMO_REPO)}, cwd=SOURCE_ROOT, environ={})
    pool = SessionPool(config)
    stack_set = load(config.stacks_repo, config)
    provisioned = provision(pool, stack_set)
    if drift:
        apply_scenario(pool, stack_set, provisioned, load_scenario(DEFAULT_SCENARIO))
    return stack_set, provisioned, pool


@dataclass
class Webhook:
    """A local HTTP endpoint recording every JSON body POSTed to it."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture(scope="session")
def webhook() -> Iterator[Webhook]:
    hook = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            hook.received.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/drift?token=canary-webhook-token"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hook
    server.shutdown()
    server.server_close()


@dataclass(frozen=True)
class DemoRun:
    """One drift-suite run over the demo (the demo drift plus a deleted security group) and what it wrote."""

    report_dir: Path
    stdout: str
    returncode: int
    webhook: Webhook
    sns_messages: list[dict[str, Any]]

    @property
    def document(self) -> dict[str, Any]:
        return json.loads((self.report_dir / "drift.json").read_text())


@pytest.fixture(scope="session")
def demo_run(moto_server: str, tmp_path_factory: pytest.TempPathFactory, webhook: Webhook) -> DemoRun:
    """The demo drift suite run once for the session: `-n 2 --allure --junitxml --notify-webhook
    --notify-sns-topic` (the webhook's path holds a canary secret; the topic feeds an SQS queue, read right
    after the run).

    A stale Allure result and an unrelated file are left in the results folder first, to show that
    the controller cleans Allure files (only) before the run.
    """
    reset_moto(moto_server)
    _, provisioned, _ = provision_demo(moto_server)
    # Beyond the demo scenario's three changed attributes: a security group deleted out of band (missing).
    group = provisioned.states["web-sg@platform-ue1-dev"]["resources"][0]["instances"][0]["attributes"]["id"]
    boto3.client("ec2", region_name="us-east-1", endpoint_url=moto_server).delete_security_group(GroupId=group)
    sns = boto3.client("sns", region_name="us-east-1", endpoint_url=moto_server)
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=moto_server)
    topic = sns.create_topic(Name="drift-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="drift-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    report_dir = tmp_path_factory.mktemp("demo-run")
    results = report_dir / "allure-results"
    results.mkdir()
    (results / "00000000-0000-0000-0000-000000000000-result.json").write_text("{}")
    (results / "notes.txt").write_text("not an allure file")
    done = run_suite(moto_server, report_dir, "-n", "2", "--allure", "--junitxml", str(report_dir / "junit.xml"),
                     "--notify-webhook", webhook.url.replace("/hooks/drift", f"/hooks/demo-run/{WEBHOOK_PATH_CANARY}"),
                     "--notify-sns-topic", topic)
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    return DemoRun(report_dir, done.stdout + done.stderr, done.returncode, webhook,
                   [json.loads(json.loads(m["Body"])["Message"]) for m in messages])
