"""Notifications: a JSON POST to a webhook and/or an SNS message, both redacted before they leave.

Configured with `notify_webhook` (an http(s) URL) and `notify_sns_topic` (a topic ARN). A failed
delivery is reported back (and logged), never raised: the run's own outcome stands.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from harness.log import Redactor

log = logging.getLogger(__name__)

SNS_SUBJECT_MAX = 100


def post_webhook(url: str, payload: Mapping[str, Any], *, timeout: float = 10.0) -> None:
    """POST `payload` as JSON; raises OSError (URLError/HTTPError) when it is not accepted."""
    if not url.startswith(("http://", "https://")):
        raise OSError(f"notify_webhook {url!r} is not an http(s) URL")
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "stackharness"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()


def publish_sns(client: Any, topic_arn: str, subject: str, message: str) -> str:
    """Publish to an SNS topic (this is an AWS write); returns the message id."""
    return client.publish(TopicArn=topic_arn, Subject=subject[:SNS_SUBJECT_MAX], Message=message)["MessageId"]


def notify(*, webhook: str | None, sns_topic: str | None, sns_client: Callable[[str], Any], subject: str,
           text: str, payload: Mapping[str, Any], redactor: Redactor) -> list[str]:
    """Send to every configured channel; returns a line per failed delivery (empty when all worked).

    `sns_client(region)` makes the SNS client (the topic ARN names the region).
    """
    subject, text = redactor.redact(subject), redactor.redact(text)
    body = redactor.redact_obj({"subject": subject, "text": text, **payload})
    failures = []
    if webhook:
        try:
            post_webhook(webhook, body)
            log.info("notification posted to the webhook")
        except (OSError, ValueError) as exc:
            failures.append(redactor.redact(f"webhook: {exc}"))
    if sns_topic:
        region = sns_topic.split(":")[3] if sns_topic.count(":") >= 5 else None
        try:
            publish_sns(sns_client(region), sns_topic, subject, text)
            log.info("notification published to %s", sns_topic)
        except Exception as exc:  # botocore errors, a bad ARN: reported, the run goes on
            failures.append(redactor.redact(f"sns {sns_topic}: {type(exc).__name__}: {exc}"))
    for failure in failures:
        log.warning("notification not delivered: %s", failure)
    return failures
