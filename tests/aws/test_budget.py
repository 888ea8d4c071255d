"""`--api-budget N`: past N calls new calls raise `ApiBudgetExceeded`, a HarnessError."""

from __future__ import annotations

import pytest

from harness.aws import ApiBudget
from harness.aws.budget import worker_share
from harness.config import load_config
from harness.demo import DEFAULT_SCENARIO, prepare_scenario, run_drift_suite
from harness.drift.scenarios import load_scenario
from harness.errors import ApiBudgetExceeded, AwsAccessError, HarnessError
from harness.report.drift_json import read_document


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


@pytest.mark.parametrize("limit", [0, 1, 7, 8, 250])
@pytest.mark.parametrize("workers", [1, 2, 3, 4])
def test_worker_shares_add_up_to_the_run_budget(limit, workers):
    shares = [worker_share(limit, k, workers) for k in range(workers)]
    assert sum(shares) == limit and max(shares) - min(shares) <= 1
    assert worker_share(limit, workers, workers) == 0          # a crash's replacement: nothing more
    assert worker_share(None, 0, workers) is None


@pytest.mark.slow
def test_budget_under_xdist_is_split_so_the_run_never_exceeds_it(moto, tmp_path):
    scenario = load_scenario(DEFAULT_SCENARIO)
    config = load_config({"aws_endpoint_url": moto, "report_dir": str(tmp_path), "api_budget": 8},
                         cwd=tmp_path, environ={})
    prepare_scenario(config, scenario)
    code = run_drift_suite(config.with_overrides(stacks_repo=scenario.repo), workers=2)
    document = read_document(tmp_path / "drift.json")
    assert code == 1, (code, document["summary"], document["errors"])
    assert document["run"]["workers"] == 2
    calls = document["summary"]["api_calls"]
    assert 0 < calls["total"] <= 8
    assert sum(scope["calls"] for scope in calls["by_scope"].values()) == calls["total"]   # both workers
    budget_errors = [e for e in document["errors"] if "API budget of 8 calls" in e["message"]]
    assert budget_errors and document["summary"]["errors"] == len(document["errors"]), (
        calls, document["summary"], document["errors"])
