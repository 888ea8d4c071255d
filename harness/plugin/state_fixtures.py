"""Fixtures for Terraform state access and locking: `state_lock`, `state_checks`, `instance_locks`."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from harness.errors import StateError
from harness.inventory.registry import supported_types
from harness.plugin.session import HarnessSession
from harness.stacks.model import ComponentInstance
from harness.state.hold import hold_state_lock
from harness.state.layout import lock_item_id
from harness.state.lockinfo import LockInfo
from harness.state.locks import LockRow
from harness.state.verify import FAIL, CheckRow, verify_instance


@pytest.fixture
def state_lock(harness: HarnessSession, component: ComponentInstance) -> Iterator[LockInfo]:
    """Hold a real Terraform-compatible DynamoDB lock (`Operation: stackharness-check`) for the test.

    While it is held, `terraform plan/apply` of the instance waits, so the check never races an
    apply. Always released. The lock item is the one write a check run may make.
    """
    table = component.lock_table
    if not table or not component.state_bucket or not component.state_key:
        raise StateError(f"{component.id}: the backend has no DynamoDB lock table", where=component.stack_file,
                         hint="set backend.s3.dynamodb_table, or drop @pytest.mark.state_lock for this suite")
    dynamodb = harness.pool.backend_client(component, "dynamodb")
    who = f"stackharness@{socket.gethostname()}:{os.getpid()}"
    with harness.pool.allow_lock_writes(table), hold_state_lock(
            dynamodb, table, lock_item_id(component.state_bucket, component.state_key), who=who,
            info=f"stackharness check of {component.id}") as lock:
        yield lock


@pytest.fixture(autouse=True)
def _state_lock_marker(request: pytest.FixtureRequest) -> None:
    """`@pytest.mark.state_lock` on a suite (or test) makes its items hold the state lock."""
    if request.node.get_closest_marker("state_lock") is not None and "component" in request.fixturenames:
        request.getfixturevalue("state_lock")


@pytest.fixture
def state_checks(harness: HarnessSession, component: ComponentInstance) -> tuple[CheckRow, ...]:
    """The instance's consistency rows (parse, version, digest, serial, lineage, unchecked types).

    An unreadable state makes this fixture raise: the items that need it are errors, never passes.
    A state that does not exist yet skips them.
    """
    rows = verify_instance(component, harness.pool, config=harness.config, known_types=supported_types(),
                           redactor=harness.redactor)
    by_check = {r.check: r for r in rows}
    if "missing" in by_check:
        pytest.skip(f"no state yet: {by_check['missing'].detail}")
    if by_check.get("parse") is not None and by_check["parse"].status == FAIL:
        raise StateError(f"{component.id}: {by_check['parse'].detail}", hint="restore a readable state version")
    return rows


@pytest.fixture
def instance_locks(harness: HarnessSession, component: ComponentInstance) -> tuple[LockRow, ...]:
    """Every lock on the instance's state (found by one scan of all backends per worker)."""
    scan = harness.lock_scan()
    if scan.problems:
        raise StateError("; ".join(str(p) for p in scan.problems), hint="check read access to the lock table")
    return tuple(r for r in scan.rows if r.instance == component.id)
