"""hold_state_lock: Terraform's lock item, bounded waiting, always released, never someone else's."""

from __future__ import annotations

import json
import logging

import pytest

from harness.errors import StateError
from harness.state.hold import StateLockTimeout, hold_state_lock
from harness.state.layout import lock_item_id
from harness.state.locks import discover_locks
from tests.state.helpers import lock_info, make_instance, put_dynamodb_lock

KEY = lock_item_id("tfstate", "app/dev/terraform.tfstate")


def _info(backend):
    item = backend.dynamodb.get_item(TableName=backend.table, Key={"LockID": {"S": KEY}},
                                     ConsistentRead=True).get("Item")
    return json.loads(item["Info"]["S"]) if item else None


class FakeClock:
    """Virtual time for the waiting loop: `sleep` advances it and can run a side effect."""

    def __init__(self, on_sleep=None):
        self.now = 0.0
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep:
            self.on_sleep(len(self.sleeps))


def test_holds_a_terraform_lock_and_releases_it(backend):
    app = make_instance("app", "dev")
    with hold_state_lock(backend.dynamodb, backend.table, KEY, who="tester@box") as lock:
        info = _info(backend)
        assert info["ID"] == lock.id
        assert info["Operation"] == "stackharness-check"
        assert info["Who"] == "tester@box"
        assert info["Path"] == KEY
        assert set(info) == {"ID", "Operation", "Info", "Who", "Version", "Created", "Path"}
        [row] = discover_locks([app], backend.pool, config=backend.config).rows
        assert (row.instance, row.verdict, row.operation, row.lock_id) == \
            ("app@dev", "held", "stackharness-check", lock.id)
    assert _info(backend) is None


def test_released_when_the_block_raises(backend):
    with pytest.raises(RuntimeError), hold_state_lock(backend.dynamodb, backend.table, KEY):
        raise RuntimeError("check blew up")
    assert _info(backend) is None


def test_waits_for_the_holder_then_acquires(backend):
    put_dynamodb_lock(backend.dynamodb, make_instance("app", "dev"), lock_info(lock_id="apply"))

    def holder_finishes(count):
        if count == 3:
            backend.dynamodb.delete_item(TableName=backend.table, Key={"LockID": {"S": KEY}})

    clock = FakeClock(holder_finishes)
    with hold_state_lock(backend.dynamodb, backend.table, KEY, timeout=60, poll_interval=2,
                         clock=clock, sleep=clock.sleep) as lock:
        assert _info(backend)["ID"] == lock.id
    assert clock.sleeps == [2, 2, 2]
    assert _info(backend) is None


def test_gives_up_after_the_timeout_naming_the_holder(backend):
    put_dynamodb_lock(backend.dynamodb, make_instance("app", "dev"),
                      lock_info(lock_id="apply-42", who="ci@runner", created="2026-01-01T00:00:00Z"))
    clock = FakeClock()
    with pytest.raises(StateLockTimeout) as caught, \
            hold_state_lock(backend.dynamodb, backend.table, KEY, timeout=5, poll_interval=2,
                            clock=clock, sleep=clock.sleep):
        pytest.fail("must not get the lock")
    assert clock.sleeps == [2, 2, 1]
    message = str(caught.value)
    assert "apply-42" in message and "ci@runner" in message and KEY in message
    assert _info(backend)["ID"] == "apply-42"      # the other lock is untouched


def test_a_lock_replaced_while_held_is_not_deleted(backend, caplog):
    with caplog.at_level(logging.WARNING, logger="harness.state.hold"), \
            hold_state_lock(backend.dynamodb, backend.table, KEY):
        # Someone force-unlocks us and a Terraform apply takes the lock.
        put_dynamodb_lock(backend.dynamodb, make_instance("app", "dev"), lock_info(lock_id="apply"))
    assert _info(backend)["ID"] == "apply"
    assert any("removed or replaced" in r.getMessage() for r in caplog.records)


def test_a_release_refused_by_the_api_budget_fails_at_once_naming_force_unlock(backend, monkeypatch):
    from harness.aws import AwsContext
    from harness.log import Redactor

    aws = AwsContext.from_config(backend.config.with_overrides(api_budget=1), redactor=Redactor(),
                                 read_only=False)
    monkeypatch.setattr("harness.state.hold.time.sleep", lambda s: pytest.fail("retried a refused call"))
    with pytest.raises(StateError, match="could not release state lock") as caught, \
            hold_state_lock(aws.client("dynamodb"), backend.table, KEY) as lock:
        pass
    assert f"terraform force-unlock {lock.id}" in str(caught.value)
    assert _info(backend)["ID"] == lock.id                   # still there: the message says how to remove it
