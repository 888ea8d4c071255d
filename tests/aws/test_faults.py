"""Fault injection: spec parsing, real error responses per protocol, determinism, same findings."""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from harness.aws import AwsContext, FaultSpec
from harness.aws.faults import ERROR, THROTTLE, FaultInjector, call_fingerprint
from harness.config import EnvironmentProfile, HarnessConfig, RetrySettings
from harness.errors import ConfigError
from harness.log import Redactor
from tests.aws.conftest import fast_retry


def test_parse_the_documented_example():
    assert FaultSpec.parse("throttle=0.3,error=0.0,latency_ms=20,seed=1") == FaultSpec(0.3, 0.0, 20.0, 1)
    assert FaultSpec.parse(" throttle = 0.5 , ") == FaultSpec(throttle=0.5)
    assert FaultSpec.parse(None) is None and FaultSpec.parse("  ") is None


@pytest.mark.parametrize(("text", "message"), [
    ("throttle=2", "not a probability"),
    ("throttle=lots", "not a number"),
    ("throtle=0.3", "did you mean 'throttle'"),
    ("throttle", "has no value"),
    ("seed=1.5", "not a whole number"),
    ("throttle=0.6,error=0.6", "more than 1"),
    ("throttle=0.1,throttle=0.2", "given twice"),
    ("latency_ms=-5", "negative"),
])
def test_bad_specs_are_config_errors(text, message):
    with pytest.raises(ConfigError, match=message) as caught:
        FaultSpec.parse(text)
    assert caught.value.where == "inject_aws_faults"


def test_context_refuses_a_bad_spec(moto):
    with pytest.raises(ConfigError, match="inject_aws_faults"):
        AwsContext.from_config(HarnessConfig(aws_endpoint_url=moto, inject_aws_faults="throttle=x"),
                               redactor=Redactor())


@given(throttle=st.floats(0, 0.5), error=st.floats(0, 0.5), latency=st.floats(0, 1000),
       seed=st.integers(0, 2**31))
def test_spec_text_round_trips(throttle, error, latency, seed):
    spec = FaultSpec(throttle, error, latency, seed)
    parsed = FaultSpec.parse(str(spec))
    assert parsed == FaultSpec(float(f"{throttle:g}"), float(f"{error:g}"), float(f"{latency:g}"), seed)


@given(fingerprint=st.text(min_size=1), attempt=st.integers(1, 20), seed=st.integers(0, 1000))
def test_decisions_are_a_pure_function_of_seed_call_and_attempt(fingerprint, attempt, seed):
    spec = FaultSpec(throttle=0.3, error=0.2, seed=seed)
    first = FaultInjector(spec).decide(fingerprint, attempt, last_allowed=False)
    assert FaultInjector(spec).decide(fingerprint, attempt, last_allowed=False) == first
    assert first in (None, THROTTLE, ERROR)


def test_last_allowed_attempt_is_spared_unless_everything_fails():
    nearly = FaultInjector(FaultSpec(throttle=0.99))
    assert all(nearly.decide(str(i), 8, last_allowed=True) is None for i in range(200))
    assert sum(nearly.decide(str(i), 1, last_allowed=False) == THROTTLE for i in range(200)) > 150
    always = FaultInjector(FaultSpec(throttle=1.0))
    assert always.decide("x", 8, last_allowed=True) == THROTTLE


def test_rates_are_roughly_honoured():
    injector = FaultInjector(FaultSpec(throttle=0.3, error=0.1, seed=5))
    kinds = [injector.decide(call_fingerprint("sqs", "ListQueues", {"n": i}), 1, last_allowed=False)
             for i in range(2000)]
    assert 0.25 < kinds.count(THROTTLE) / 2000 < 0.35
    assert 0.07 < kinds.count(ERROR) / 2000 < 0.13


_ONE_ATTEMPT = {"default": EnvironmentProfile(retry=RetrySettings(max_attempts=1))}


@pytest.mark.parametrize(("service", "call", "throttle_code", "error_code"), [
    ("iam", lambda c: c.list_roles(), "Throttling", "InternalFailure"),                   # query
    ("ec2", lambda c: c.describe_vpcs(), "RequestLimitExceeded", "InternalError"),        # ec2
    ("s3", lambda c: c.list_buckets(), "SlowDown", "InternalError"),                      # rest-xml
    ("dynamodb", lambda c: c.list_tables(), "ThrottlingException", "InternalFailure"),    # json
    ("lambda", lambda c: c.list_functions(), "TooManyRequestsException", "InternalFailure"),  # rest-json
])
def test_faults_are_real_error_responses_in_each_protocol(make_aws, service, call, throttle_code, error_code):
    throttled = make_aws(profiles=_ONE_ATTEMPT, inject_aws_faults="throttle=1")
    with pytest.raises(ClientError) as caught:
        call(throttled.client(service))
    assert caught.value.response["Error"]["Code"] == throttle_code
    assert throttled.meter.summary()["throttled"] == 1
    failing = make_aws(profiles=_ONE_ATTEMPT, inject_aws_faults="error=1")
    with pytest.raises(ClientError) as caught:
        call(failing.client(service))
    assert caught.value.response["Error"]["Code"] == error_code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def _reads(aws: AwsContext) -> dict:
    sqs, ec2, iam = aws.client("sqs"), aws.client("ec2"), aws.client("iam")
    queues = sorted(sqs.list_queues()["QueueUrls"])
    return {
        "queues": queues,
        # Calls whose parameters do not contain the moto port, so their faults repeat run to run.
        "by_prefix": [sorted(sqs.list_queues(QueueNamePrefix=f"q{i}").get("QueueUrls", []))
                      for i in range(8)],
        "attributes": [sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["All"])["Attributes"]
                       ["VisibilityTimeout"] for q in queues],
        "vpcs": sorted(v["CidrBlock"] for v in ec2.describe_vpcs()["Vpcs"]),
        "roles": sorted(r["RoleName"] for r in iam.list_roles()["Roles"]),
        "missing": _error_code(lambda: iam.get_role(RoleName="ghost")),
    }


def _error_code(call) -> str | None:
    try:
        call()
    except ClientError as exc:
        return exc.response["Error"]["Code"]
    return None


def test_faults_leave_findings_unchanged_and_show_in_the_meter(make_aws, raw):
    for i in range(6):
        raw("sqs").create_queue(QueueName=f"q{i}", Attributes={"VisibilityTimeout": str(10 + i)})
        raw("iam").create_role(RoleName=f"role{i}", AssumeRolePolicyDocument="{}")
    raw("ec2").create_vpc(CidrBlock="10.9.0.0/16")
    clean = make_aws()
    faulty = make_aws(inject_aws_faults="throttle=0.3,seed=1")
    assert _reads(faulty) == _reads(clean)
    assert clean.meter.summary()["retried"] == 0
    summary = faulty.meter.summary()
    assert faulty.meter.count("sqs.ListQueues", outcome="throttled") > 0   # same params every run
    assert summary["retried"] >= summary["throttled"] > 0
    assert summary["total"] == clean.meter.summary()["total"]
    assert faulty.meter.count(outcome="failed") == clean.meter.count(outcome="failed") == 1  # the ghost


def _attempts_for(make_aws, seed: int, *, threads: int = 1) -> dict[str, int]:
    aws = make_aws(inject_aws_faults=f"throttle=0.4,error=0.1,seed={seed}")
    sqs = aws.client("sqs")
    prefixes = [f"p{i}" for i in range(24)]

    def work(chunk: list[str]) -> None:
        for prefix in chunk:
            sqs.list_queues(QueueNamePrefix=prefix)

    chunks = [prefixes[i::threads][::-1] for i in range(threads)]   # a different order per thread
    workers = [threading.Thread(target=work, args=(c,)) for c in chunks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    rows = aws.meter.snapshot()["rows"]
    return {row["outcome"]: row["attempts"] for row in rows}


def test_same_seed_same_faults_whatever_the_thread_order(make_aws):
    sequential = _attempts_for(make_aws, seed=11)
    assert _attempts_for(make_aws, seed=11, threads=4) == sequential
    assert sum(sequential.values()) > 24                     # some attempts were faulted
    assert _attempts_for(make_aws, seed=12) != sequential


def test_latency_is_added_to_every_attempt(make_aws, clock):
    aws = make_aws(profiles=fast_retry(), inject_aws_faults="latency_ms=20")
    aws.client("s3").list_buckets()
    aws.client("s3").list_buckets()
    assert clock.sleeps == pytest.approx([0.02, 0.02])
