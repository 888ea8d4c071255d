"""Adaptive token buckets per (account, region, service), on a fake clock."""

from __future__ import annotations

import pytest

from harness.aws.ratelimit import COOLDOWN, DECREASE, MIN_RATE, RECOVERY, RateLimiters, TokenBucket
from tests.aws.conftest import FakeClock


def test_configured_rate_spaces_calls(clock):
    bucket = TokenBucket(2.0, clock)             # 2 calls/s, burst of 2
    waits = [bucket.acquire() for _ in range(6)]
    assert waits == pytest.approx([0, 0, 0.5, 0.5, 0.5, 0.5])
    assert clock.elapsed == pytest.approx(2.0)


class _FrozenClock(FakeClock):
    """Sleeping does not move time: like callers arriving together, each waiting in its own thread."""

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def test_simultaneous_callers_queue_their_reservations():
    clock = _FrozenClock()
    bucket = TokenBucket(2.0, clock)
    waits = [bucket.acquire() for _ in range(6)]
    assert waits == pytest.approx([0, 0, 0.5, 1.0, 1.5, 2.0])


def test_tokens_refill_with_time(clock):
    bucket = TokenBucket(1.0, clock)
    bucket.acquire()
    clock.advance(3.0)                            # refills to the burst of 1, not 3
    assert bucket.acquire() == 0
    assert bucket.acquire() == pytest.approx(1.0)


def test_unlimited_bucket_never_waits(clock):
    bucket = TokenBucket(None, clock)
    assert all(bucket.acquire() == 0 for _ in range(100))
    assert clock.sleeps == []


def test_throttle_cuts_the_rate_once_per_cooldown_and_success_recovers_it(clock):
    bucket = TokenBucket(10.0, clock)
    bucket.on_throttle()
    bucket.on_throttle()                          # same burst: no second cut
    assert bucket.rate == pytest.approx(10.0 * DECREASE)
    clock.advance(COOLDOWN)
    bucket.on_throttle()
    assert bucket.rate == pytest.approx(10.0 * DECREASE ** 2)
    successes = 0
    while bucket.rate < 10.0:
        bucket.on_success()
        successes += 1
        assert successes < 100
    assert bucket.rate == 10.0                    # never above the configured ceiling
    assert successes > 1                          # recovery is gradual
    assert bucket.rate == pytest.approx(10.0)
    bucket.on_success()
    assert bucket.rate == 10.0


def test_unlimited_bucket_adapts_to_the_observed_rate_and_recovers(clock):
    bucket = TokenBucket(None, clock)
    for _ in range(11):                           # 10 calls/s observed
        bucket.acquire()
        clock.advance(0.1)
    bucket.on_throttle()
    assert bucket.rate == pytest.approx(10.0 * DECREASE, rel=0.01)
    before = len(clock.sleeps)
    for _ in range(5):
        bucket.acquire()
    assert len(clock.sleeps) > before             # now it waits
    for _ in range(100):
        bucket.on_success()
        if bucket.rate is None:
            break
    assert bucket.rate is None                    # unlimited again
    assert RECOVERY > 1


def test_rate_never_drops_below_the_floor(clock):
    bucket = TokenBucket(1.0, clock)
    for _ in range(20):
        bucket.on_throttle()
        clock.advance(COOLDOWN)
    assert bucket.rate == MIN_RATE


def test_one_bucket_per_key(clock):
    limiters = RateLimiters(clock, default_rate=5.0)
    a = limiters.bucket(("111", "us-east-1", "s3"))
    assert limiters.bucket(("111", "us-east-1", "s3")) is a
    assert limiters.bucket(("111", "eu-west-1", "s3")) is not a
    assert a.rate == 5.0
    assert limiters.bucket(("222", "us-east-1", "s3"), rate=1.0).rate == 1.0


def test_throttling_in_the_client_layer_slows_that_key_only(make_aws):
    aws = make_aws(inject_aws_faults="throttle=1,seed=3")
    with pytest.raises(Exception):  # noqa: B017 - exhausted retries raise the throttling ClientError
        aws.client("sqs").list_queues()
    limiters = aws.pool.hooks.limiters
    assert limiters.bucket(("default", "us-east-1", "sqs")).rate is not None
    assert limiters.bucket(("default", "us-east-1", "sns")).rate is None
