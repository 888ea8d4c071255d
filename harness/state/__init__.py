"""Terraform state access: S3 backend states, lock discovery and cleanup, the harness's own lock,
and consistency verification."""

from harness.state.cleanup import AuditLog, CleanupOutcome, clean_locks, plan_cleanup
from harness.state.hold import StateLockTimeout, hold_state_lock
from harness.state.lockinfo import LockInfo, LockInfoError, parse_lock_info
from harness.state.locks import LockRow, LockScan, discover_locks
from harness.state.model import ResourceInstance, TerraformState
from harness.state.reader import (
    MissingStateError,
    StateObject,
    fetch_state_object,
    list_workspaces,
    parse_state,
    read_state,
)
from harness.state.verify import CheckRow, verify_states

__all__ = [
    "AuditLog", "CheckRow", "CleanupOutcome", "LockInfo", "LockInfoError", "LockRow", "LockScan",
    "MissingStateError", "ResourceInstance", "StateLockTimeout", "StateObject", "TerraformState",
    "clean_locks", "discover_locks", "fetch_state_object", "hold_state_lock", "list_workspaces",
    "parse_lock_info", "parse_state", "plan_cleanup", "read_state", "verify_states",
]
