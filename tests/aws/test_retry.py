"""Retries: backoff with full jitter for throttling and transient errors, never for client errors."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, SSLError
from hypothesis import given
from hypothesis import strategies as st

from harness.aws import AwsContext, RetryPolicy
from harness.aws.retry import classify
from harness.config import EnvironmentProfile, HarnessConfig, RetrySettings
from harness.log import Redactor


def _profile(base: float = 0.1, cap: float = 1.0, max_attempts: int = 6) -> dict:
    # A high configured rate keeps the rate limiter from waiting, so the clock records backoff only.
    return {"default": EnvironmentProfile(retry=RetrySettings(base=base, cap=cap, max_attempts=max_attempts),
                                          rate_limit=1000.0)}


def test_backoff_schedule_is_exponential_and_capped(make_aws, clock):
    aws = make_aws(profiles=_profile(), inject_aws_faults="throttle=1,seed=1", jitter=lambda ceiling: ceiling)
    with pytest.raises(ClientError) as caught:
        aws.client("iam").list_roles()
    assert caught.value.response["Error"]["Code"] == "Throttling"
    assert clock.sleeps == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0])
    assert aws.meter.attempts("iam.ListRoles") == 6
    assert aws.meter.count("iam.ListRoles", outcome="failed") == 1
    assert aws.meter.summary()["throttled"] == 1


def test_full_jitter_waits_stay_under_the_ceilings(make_aws, clock):
    aws = make_aws(profiles=_profile(base=0.5, cap=2.0, max_attempts=8),
                   inject_aws_faults="throttle=1,seed=2")
    with pytest.raises(ClientError):
        aws.client("sqs").list_queues()
    ceilings = [0.5, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0]
    assert len(clock.sleeps) == len(ceilings)
    assert all(0 <= s <= c for s, c in zip(clock.sleeps, ceilings, strict=True))
    assert len(set(clock.sleeps)) > 1          # jittered, not a fixed schedule


@given(base=st.floats(0.001, 5), cap=st.floats(0.001, 60), retry=st.integers(1, 200))
def test_delay_is_within_full_jitter_bounds(base, cap, retry):
    policy = RetryPolicy(base=base, cap=cap, max_attempts=10)
    ceiling = min(cap, base * 2 ** (retry - 1))
    assert policy.ceiling(retry) == pytest.approx(ceiling)
    assert 0 <= policy.delay(retry) <= ceiling


def test_policy_comes_from_the_profile_settings(moto, clock):
    config = HarnessConfig(aws_endpoint_url=moto, profile="prod", profiles={
        "prod": EnvironmentProfile(name="prod", retry=RetrySettings(base=0.3, cap=0.5, max_attempts=3),
                                   rate_limit=1000.0)}, inject_aws_faults="throttle=1")
    aws = AwsContext.from_config(config, redactor=Redactor(), clock=clock, jitter=lambda c: c)
    with pytest.raises(ClientError):
        aws.client("sns").list_topics()
    assert clock.sleeps == pytest.approx([0.3, 0.5])


def test_no_retry_on_a_client_error(make_aws, clock):
    aws = make_aws()
    with pytest.raises(ClientError) as caught:
        aws.client("iam").get_role(RoleName="does-not-exist")
    assert caught.value.response["Error"]["Code"] == "NoSuchEntity"
    assert clock.sleeps == []
    assert aws.meter.attempts("iam.GetRole") == 1
    assert aws.meter.count("iam.GetRole", outcome="failed") == 1


def test_no_retry_on_access_denied(make_aws, raw, clock, moto_iam_auth, monkeypatch):
    iam = raw("iam")
    iam.create_user(UserName="nobody")
    key = iam.create_access_key(UserName="nobody")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    moto_iam_auth()
    aws = make_aws()
    with pytest.raises(ClientError) as caught:
        aws.client("iam").list_roles()
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert clock.sleeps == []
    assert aws.meter.attempts("iam.ListRoles") == 1
    summary = aws.meter.summary()
    assert {k: summary[k] for k in ("total", "by_operation", "retried", "throttled", "failed")} == {
        "total": 1, "by_operation": {"iam.ListRoles": 1}, "retried": 0, "throttled": 0, "failed": 1}


def test_server_errors_are_retried_until_they_pass(make_aws, clock):
    aws = make_aws(inject_aws_faults="error=0.6,seed=4")
    results = [aws.client("dynamodb").list_tables()["TableNames"] for _ in range(10)]
    assert results == [[]] * 10
    assert aws.meter.count("dynamodb.ListTables", outcome="retried") > 0
    assert aws.meter.count("dynamodb.ListTables", outcome="failed") == 0
    assert aws.meter.summary()["throttled"] == 0


def test_connection_failures_are_retried(clock):
    config = HarnessConfig(aws_endpoint_url="http://127.0.0.1:9", profiles=_profile(max_attempts=3))
    aws = AwsContext.from_config(config, redactor=Redactor(), clock=clock)
    with pytest.raises(EndpointConnectionError):
        aws.client("sqs").list_queues()
    assert aws.meter.attempts("sqs.ListQueues") == 3
    assert len(clock.sleeps) == 2
    assert aws.meter.count("sqs.ListQueues", outcome="failed") == 1


@pytest.mark.parametrize(("status", "code", "retryable", "throttled"), [
    (400, "Throttling", True, True),
    (400, "ThrottlingException", True, True),
    (503, "RequestLimitExceeded", True, True),
    (429, "TooManyRequestsException", True, True),
    (503, "SlowDown", True, True),
    (400, "ProvisionedThroughputExceededException", True, True),
    (400, "RequestThrottled", True, True),
    (429, None, True, True),
    (500, "InternalError", True, False),
    (502, None, True, False),
    (400, "RequestTimeout", True, False),
    (403, "AccessDenied", False, False),
    (400, "ValidationError", False, False),
    (404, "NoSuchEntity", False, False),
    (200, None, False, False),
])
def test_classification(status, code, retryable, throttled):
    verdict = classify(status, code)
    assert (verdict.retryable, verdict.throttled) == (retryable, throttled)


def test_exception_classification():
    def error(code: str, status: int) -> ClientError:
        return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "X")

    throttle, denied = error("Throttling", 400), error("AccessDenied", 403)
    assert classify(None, None, throttle).throttled
    assert not classify(None, None, denied).retryable
    assert classify(None, None, ConnectionClosedError(endpoint_url="http://x")).retryable
    assert classify(None, None, EndpointConnectionError(endpoint_url="http://x")).retryable
    assert not classify(None, None, SSLError(endpoint_url="http://x", error="bad cert")).retryable
    assert not classify(None, None, ValueError("bug")).retryable
