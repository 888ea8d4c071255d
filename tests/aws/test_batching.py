"""Batching: pagination beyond one page, chunking to API limits, bounded fan-out, single-flight sharing."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.aws import batch_read, chunk_limit, chunked, paginate, read_each
from harness.aws.singleflight import SingleFlight


def test_paginate_collects_every_page(make_aws, raw):
    iam = raw("iam")
    for i in range(150):
        iam.create_role(RoleName=f"role-{i:03}", AssumeRolePolicyDocument="{}")
    aws = make_aws()
    roles = paginate(aws.client("iam"), "ListRoles", "Roles")
    assert sorted(r["RoleName"] for r in roles) == [f"role-{i:03}" for i in range(150)]
    assert aws.meter.count("iam.ListRoles") == 2                 # IAM pages hold 100 roles


def test_paginate_with_nested_result_keys_and_page_size(make_aws, raw):
    ec2 = raw("ec2")
    runs = [ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1) for _ in range(7)]
    launched = [run["Instances"][0]["InstanceId"] for run in runs]
    aws = make_aws()
    ids = paginate(aws.client("ec2"), "describe_instances", "Reservations[].Instances[].InstanceId",
                   PaginationConfig={"PageSize": 5})
    assert sorted(ids) == sorted(launched)
    assert aws.meter.count("ec2.DescribeInstances") == 2


def test_paginate_calls_once_when_there_is_no_paginator(make_aws, raw):
    raw("sqs").create_queue(QueueName="attrs")
    aws = make_aws()
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName="attrs")["QueueUrl"]
    assert paginate(sqs, "GetQueueAttributes", "Attributes.QueueArn", QueueUrl=url,
                    AttributeNames=["QueueArn"]) == ["arn:aws:sqs:us-east-1:123456789012:attrs"]
    assert paginate(sqs, "ListQueueTags", "Tags", QueueUrl=url) == [{}]      # a mapping is one item
    with pytest.raises(ValueError, match="no operation"):
        paginate(sqs, "ListBananas", "Bananas")


def test_chunk_limits_come_from_the_model_then_the_table(make_aws):
    aws = make_aws()
    assert chunk_limit(aws.client("ssm"), "GetParameters", "Names") == 10
    assert chunk_limit(aws.client("secretsmanager"), "BatchGetSecretValue", "SecretIdList") == 20
    assert chunk_limit(aws.client("dynamodb"), "BatchGetItem", "RequestItems") == 100
    assert chunk_limit(aws.client("ec2"), "DescribeInstances", "InstanceIds") == 200
    assert chunk_limit(aws.client("ec2"), "DescribeVpcs") == 200
    assert chunk_limit(aws.client("elbv2"), "DescribeTags", "ResourceArns") == 20
    assert chunk_limit(aws.client("sqs"), "ListQueues") == 100


@given(items=st.lists(st.integers(), max_size=300), size=st.integers(1, 50))
def test_chunked_keeps_order_and_limits(items, size):
    chunks = list(chunked(items, size))
    assert [x for chunk in chunks for x in chunk] == items
    assert all(1 <= len(chunk) <= size for chunk in chunks)
    assert len(chunks) == -(-len(items) // size)


def test_batch_read_splits_ids_into_chunks(make_aws, raw):
    ec2 = raw("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    groups = [ec2.create_security_group(GroupName=f"sg-{i}", Description="t", VpcId=vpc)["GroupId"]
              for i in range(12)]
    aws = make_aws()
    client = aws.client("ec2")
    found = batch_read(client, "DescribeSecurityGroups", "SecurityGroups", groups + groups[:3],
                       param="GroupIds", chunk_size=5)
    assert sorted(g["GroupId"] for g in found) == sorted(groups)
    assert aws.meter.count("ec2.DescribeSecurityGroups") == 3      # 12 unique ids in chunks of 5
    by_filter = batch_read(client, "DescribeSecurityGroups", "SecurityGroups[].GroupId", groups,
                           filter_name="group-id", chunk_size=8,
                           Filters=[{"Name": "vpc-id", "Values": [vpc]}])
    assert sorted(by_filter) == sorted(groups)
    assert aws.meter.count("ec2.DescribeSecurityGroups") == 5
    with pytest.raises(ValueError, match="exactly one"):
        batch_read(client, "DescribeSecurityGroups", "SecurityGroups", groups)


def test_read_each_bounds_concurrency_and_isolates_errors():
    lock = threading.Lock()
    running = peak = 0

    def read(n: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01)
        with lock:
            running -= 1
        if n == 7:
            raise RuntimeError("broken resource")
        return n * n

    results = read_each(range(20), read, max_workers=3)
    assert [r.item for r in results] == list(range(20))
    assert [r.value for r in results if r.ok] == [n * n for n in range(20) if n != 7]
    [failed] = [r for r in results if not r.ok]
    assert failed.item == 7 and isinstance(failed.error, RuntimeError)
    assert 1 < peak <= 3


def test_read_each_against_moto(make_aws, raw):
    sqs_setup = raw("sqs")
    urls = [sqs_setup.create_queue(QueueName=f"fan-{i}", Attributes={"DelaySeconds": str(i)})["QueueUrl"]
            for i in range(10)]
    aws = make_aws()
    sqs = aws.client("sqs")
    results = read_each([*urls, "http://127.0.0.1/123456789012/missing"],
                        lambda url: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"]),
                        max_workers=4)
    assert [r.value["Attributes"]["DelaySeconds"] for r in results[:10]] == [str(i) for i in range(10)]
    assert results[10].error is not None
    assert aws.meter.count("sqs.GetQueueAttributes") == 11


def test_concurrent_identical_listings_share_one_call(make_aws, raw):
    for i in range(3):
        raw("sqs").create_queue(QueueName=f"shared-{i}")
    aws = make_aws(inject_aws_faults="latency_ms=1")   # fake-clock latency: same results, no delay
    sqs = aws.client("sqs")
    barrier = threading.Barrier(2)
    got: list[list] = []

    def ask() -> None:
        barrier.wait()
        got.append(aws.listing(sqs, "ListQueues", "QueueUrls"))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 2 and sorted(got[0]) == sorted(got[1]) and len(got[0]) == 3
    assert aws.listing(sqs, "list_queues", "QueueUrls") == got[0]     # cached for the run
    assert aws.meter.count("sqs.ListQueues") == 1
    aws.listing(sqs, "ListQueues", "QueueUrls", QueueNamePrefix="shared-1")   # other args: new call
    aws.listing(aws.client("sqs", region="eu-west-1"), "ListQueues", "QueueUrls")  # other region
    assert aws.meter.count("sqs.ListQueues") == 3


def test_single_flight_waiters_share_the_leaders_result():
    flight = SingleFlight()
    started, release = threading.Event(), threading.Event()
    calls = 0

    def slow() -> str:
        nonlocal calls
        calls += 1
        started.set()
        release.wait(5)
        return "value"

    results: list[str] = []
    leader = threading.Thread(target=lambda: results.append(flight.do("k", slow)))
    leader.start()
    started.wait(5)
    followers = [threading.Thread(target=lambda: results.append(flight.do("k", slow))) for _ in range(3)]
    for follower in followers:
        follower.start()
    while flight.hits < 3:          # every follower has joined the flight before the leader returns
        time.sleep(0.001)
    release.set()
    for thread in [leader, *followers]:
        thread.join()
    assert results == ["value"] * 4 and calls == 1
    assert (flight.misses, flight.hits) == (1, 3)


def test_single_flight_does_not_cache_failures():
    flight = SingleFlight()
    attempts = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("throttled for good")
        return "second time lucky"

    with pytest.raises(RuntimeError):
        flight.do("k", flaky)
    assert flight.do("k", flaky) == "second time lucky"
    assert flight.do("k", flaky) == "second time lucky"
    assert len(attempts) == 2
    flight.forget("k")
    flight.do("k", flaky)
    assert len(attempts) == 3
