"""Terraform state health, one item per instance: abandoned locks, digest, serial and lineage.

Fails when a lock is abandoned (older than the environment profile's `lock_stale_after`) or
malformed, when the stored MD5 digest does not match the state (Terraform would refuse to load
it), when the serial went backwards between object versions (a rollback) or the lineage changed.
Unreadable states are errors; instances that were never applied are skipped with the reason.
"""

from harness.state.assertions import assert_checks_pass, assert_no_abandoned_locks


def test_lock_status(instance_locks):
    assert_no_abandoned_locks(instance_locks)


def test_digest(state_checks):
    assert_checks_pass(state_checks, "parse", "version", "digest")


def test_serial_and_lineage(state_checks):
    assert_checks_pass(state_checks, "serial", "lineage")
