"""`--api-budget N`: past N calls new calls raise `ApiBudgetExceeded`, a HarnessError."""

from __future__ import annotations

import pytest

from harness.aws import ApiBudget
from harness.errors import ApiBudgetExceeded, AwsAccessError, HarnessError


def test_calls_past_the_budget_are_refused(make_aws, raw):
    raw("sqs").create_queue(QueueName="budgeted")
    aws = make_aws(api_budget=3)
    sqs = aws.client("sqs")
    for _ in range(3):
        assert len(sqs.list_queues()["QueueUrls"]) == 1
    with pytest.raises(ApiBudgetExceeded) as caught:
        sqs.get_queue_url(QueueName="budgeted")
    assert isinstance(caught.value, AwsAccessError) and isinstance(caught.value, HarnessError)
    assert "budget of 3 calls" in str(caught.value) and "sqs.GetQueueUrl" in str(caught.value)
    assert "--api-budget" in str(caught.value)
    assert aws.meter.total == 3                     # the refused call was never made
    assert (aws.budget.used, aws.budget.refused, aws.budget.remaining) == (3, 1, 0)


def test_retries_of_an_admitted_call_are_not_charged(make_aws):
    aws = make_aws(api_budget=2, inject_aws_faults="throttle=0.9,seed=7")
    dynamodb = aws.client("dynamodb")
    dynamodb.list_tables()
    dynamodb.list_tables(Limit=5)
    assert aws.meter.attempts() > 2                 # throttled and retried, still within budget
    with pytest.raises(ApiBudgetExceeded):
        dynamodb.list_tables()


def test_budget_covers_credential_calls(make_aws):
    aws = make_aws(api_budget=1)
    # The data call is admitted first; the AssumeRole its signing needs is the call past the budget.
    with pytest.raises(ApiBudgetExceeded, match=r"sts\.AssumeRole"):
        aws.client("s3", role_arn="arn:aws:iam::111122223333:role/r").list_buckets()
    assert aws.meter.count("sts.AssumeRole") == 0
    assert aws.meter.count("s3.ListBuckets", outcome="failed") == 1
    assert aws.budget.refused == 1


def test_no_budget_means_unlimited():
    budget = ApiBudget(None)
    for _ in range(1000):
        budget.charge("s3.ListBuckets", "us-east-1")
    assert budget.remaining is None and budget.used == 1000


def test_zero_budget_refuses_everything():
    with pytest.raises(ApiBudgetExceeded):
        ApiBudget(0).charge("s3.ListBuckets", "us-east-1")
