"""Wiring for the commands: a checker and a rotation context from the run's config, pool and redactor."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import TYPE_CHECKING, Any

from harness.config import HarnessConfig
from harness.credentials.audit import AUDIT_FILE, AuditLog
from harness.credentials.aws import Clients, pool_clients
from harness.credentials.check import CredentialChecker, StateOf
from harness.credentials.model import now_utc
from harness.credentials.policy import validate_profiles
from harness.credentials.rotation.engine import RotationContext, new_run_id
from harness.credentials.states import backend_state_reader
from harness.credentials.writes import WRITE_OPERATIONS, CredentialWriter
from harness.log import Redactor
from harness.stacks.model import StackSet

if TYPE_CHECKING:
    from harness.aws.session import SessionPool


def make_checker(config: HarnessConfig, pool: SessionPool, stack_set: StackSet, redactor: Redactor, *,
                 as_of: datetime | None = None, state_of: StateOf | None = None,
                 clients: Clients | None = None) -> CredentialChecker:
    """A checker over the pool; policies are validated up front so a typo fails before any AWS call."""
    validate_profiles(config.profiles)
    return CredentialChecker(config, clients or pool_clients(pool), stack_set,
                             state_of or backend_state_reader(pool, redactor), as_of=as_of or now_utc())


def rotation_writes(pool: SessionPool) -> Callable[[], AbstractContextManager[Any]]:
    """The write permission `creds rotate --yes` needs: exactly the rotation's operations, each logged."""
    return lambda: pool.allow_writes("credential rotation", operations=WRITE_OPERATIONS)


def rotation_context(config: HarnessConfig, clients: Clients, redactor: Redactor, *,
                     now: datetime | None = None,
                     permit_writes: Callable[[], AbstractContextManager[Any]] | None = None) -> RotationContext:
    """A context whose writes are audited to `<report_dir>/rotation-audit.jsonl` and, when
    `permit_writes` is given (`rotation_writes(pool)`), run inside the AWS layer's write permission."""
    run_id = new_run_id()
    writer = CredentialWriter(clients, AuditLog(config.report_dir / AUDIT_FILE, redactor), redactor, run_id)
    return RotationContext(clients=clients, writer=writer, redactor=redactor, now=now or now_utc(),
                           certificate_sources=dict(config.certificate_sources), base_dir=config.stacks_repo,
                           run_id=run_id, permit_writes=permit_writes or nullcontext)
