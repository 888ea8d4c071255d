"""Optional notifications at the end of a run: a JSON summary to a webhook and/or an SNS topic.

Off unless `notify_webhook` / `notify_sns_topic` is set. The summary holds counts and a link, never
finding values; it is redacted all the same. A failed notification is reported, it never changes
the run's outcome. A webhook URL is a secret (the token is in its path or query): output names only
its scheme and host, and the Redactor masks the URL wherever else it would appear.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessError
from harness.log import Redactor
from harness.report.history import Trend

if TYPE_CHECKING:
    from harness.aws.session import SessionPool

log = logging.getLogger(__name__)


class NotifyError(HarnessError):
    """A notification could not be delivered."""


def artifact_link(report_path: Path, environ: Mapping[str, str] | None = None) -> str:
    """Where a reader finds the report: the CI run's page (GitHub Actions, GitLab CI) or the local file."""
    env = os.environ if environ is None else environ
    if env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        return f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    if env.get("CI_JOB_URL"):
        return f"{env['CI_JOB_URL']}/artifacts/browse"
    return report_path.resolve().as_uri()


def summary(document: Mapping[str, Any], trend: Trend | None, *, link: str) -> dict[str, Any]:
    """The notification body: new, recurring and resolved findings, errors, the drift counts and a link."""
    counts = trend.counts() if trend is not None else {"new": None, "recurring": None, "resolved": None}
    totals = document.get("summary", {})
    run = document.get("run", {})
    drift = sum(int(totals.get(k, 0) or 0) for k in ("changed", "missing", "unmanaged"))
    errors = int(totals.get("errors", 0) or 0)
    status = "error" if errors else ("drift" if drift else "clean")
    return {
        "source": "stackharness", "status": status, "repo": run.get("repo"), "started": run.get("started"),
        "finished": run.get("finished"), "new": counts["new"], "recurring": counts["recurring"],
        "resolved": counts["resolved"], "errors": errors,
        "changed": totals.get("changed", 0), "missing": totals.get("missing", 0),
        "unmanaged": totals.get("unmanaged", 0), "suppressed": totals.get("suppressed", 0),
        "instances": totals.get("instances", 0), "link": link,
        "text": (f"stackharness drift: {status} — {counts['new'] if counts['new'] is not None else '?'} new, "
                 f"{counts['recurring'] if counts['recurring'] is not None else '?'} recurring, "
                 f"{counts['resolved'] if counts['resolved'] is not None else '?'} resolved, {errors} errors. "
                 f"{link}"),
    }


def post_webhook(url: str, payload: Mapping[str, Any], *, redactor: Redactor, timeout: float = 10.0) -> int:
    """POST the payload as JSON; returns the HTTP status. Raises NotifyError on failure."""
    body = redactor.redact(json.dumps(redactor.redact_obj(dict(payload)), sort_keys=True)).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "User-Agent": "stackharness-notify"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise NotifyError(f"webhook notification failed: {redactor.redact(str(exc))}",
                          where=webhook_label(url),
                          hint="check --notify-webhook (the URL must accept a JSON POST)") from None


def webhook_label(url: str) -> str:
    """How a webhook is named in output: scheme and host only (Slack, Teams and Discord keep the
    secret in the path, others in the query)."""
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return "the webhook"
    tail = "/…" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{tail}"


def webhook_secrets(url: str | None) -> list[str]:
    """The parts of a webhook URL to register with the Redactor: the URL, its path and its query."""
    if not url:
        return []
    parts = urllib.parse.urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return [v for v in (url, path, parts.path, parts.query, parts.username, parts.password) if v and v != "/"]


def publish_sns(pool: SessionPool, topic_arn: str, payload: Mapping[str, Any], *, redactor: Redactor) -> str:
    """Publish the payload to an SNS topic (the one write a drift run makes, permitted explicitly)."""
    parts = topic_arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or parts[2] != "sns":
        raise NotifyError(f"{topic_arn!r} is not an SNS topic ARN", where="--notify-sns-topic",
                          hint="use arn:aws:sns:<region>:<account>:<topic>")
    message = redactor.redact(json.dumps(redactor.redact_obj(dict(payload)), sort_keys=True))
    client = pool.client("sns", region=parts[3])
    try:
        with pool.allow_writes("notify", operations={"sns.Publish"}):
            response = client.publish(TopicArn=topic_arn, Message=message,
                                      Subject=str(payload.get("subject") or "stackharness drift report")[:100])
    except HarnessError:
        raise
    except Exception as exc:  # botocore errors: reported, never fatal to the run
        raise NotifyError(f"SNS notification failed: {redactor.redact(str(exc))}", where=topic_arn,
                          hint="check the topic ARN and that the credentials may sns:Publish to it") from None
    return str(response.get("MessageId", ""))


def notify(payload: Mapping[str, Any], *, webhook: str | None, sns_topic: str | None, pool: SessionPool | None,
           redactor: Redactor) -> list[str]:
    """Send to every configured target; returns one line per target saying what happened."""
    lines = []
    if webhook:
        try:
            status = post_webhook(webhook, payload, redactor=redactor)
            lines.append(f"notified webhook {webhook_label(webhook)} (HTTP {status})")
        except NotifyError as exc:
            log.warning("%s", exc)
            lines.append(f"notification failed: {exc}")
    if sns_topic:
        try:
            if pool is None:
                raise NotifyError("no AWS session for the SNS notification", where=sns_topic)
            message_id = publish_sns(pool, sns_topic, payload, redactor=redactor)
            lines.append(f"notified SNS topic {sns_topic} (message {message_id})")
        except NotifyError as exc:
            log.warning("%s", exc)
            lines.append(f"notification failed: {exc}")
    return lines
