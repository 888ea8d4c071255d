"""The rotation engine: one state machine per kind, advanced one step at a time, saved after each step.

A rotator's `advance` makes at most one kind of change and returns the record's next state; the
engine saves it (conditionally) before the next step. If saving fails after a change that would
otherwise be lost (a new access key whose secret exists only in this run), the step's `undo` runs.
Any failure saves the record with `error` = where it stopped; the state is unchanged, so the old
credential is still the active one and a re-run continues from there.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from harness.aws.errors import AWS_ERRORS, describe_error
from harness.credentials.aws import Clients
from harness.credentials.model import Credential, CredentialRow
from harness.credentials.policy import CredentialPolicy
from harness.credentials.records import RecordStore, RotationRecord, StoredRecord
from harness.credentials.writes import CredentialWriter, NewAccessKey
from harness.errors import HarnessError
from harness.log import Redactor

log = logging.getLogger(__name__)

COMPLETED, WAITING, REFUSED, FAILED = "completed", "waiting", "refused", "failed"
NO_STORE = "no rotation store: the credential is not managed by an instance with an S3 backend"
NO_STORE_HINT = "set rotation_store: s3://bucket/prefix/"


def new_run_id() -> str:
    """A short id naming one rotation run in records and the audit file."""
    return uuid.uuid4().hex[:12]


class RotationRefused(HarnessError):
    """A rotation that must not start or go on (nothing was changed by the refused step)."""


@dataclass(frozen=True)
class RotationTarget:
    """A credential to rotate, with its policy, managing instance and record store."""

    credential: Credential
    policy: CredentialPolicy
    instance: str | None
    store: RecordStore | None
    row: CredentialRow | None = None
    regions: tuple[str, ...] = ()          # where consumers (load balancers) are searched

    @property
    def label(self) -> str:
        c = self.credential
        return f"{c.kind} {c.id}" + (f" ({c.name})" if c.name and c.name != c.id else "")


@dataclass
class RotationContext:
    """What every step needs: clients, the writer, the clock and the run's in-memory secrets."""

    clients: Clients
    writer: CredentialWriter
    redactor: Redactor
    now: datetime
    certificate_sources: Mapping[str, str]
    base_dir: Path
    run_id: str = field(default_factory=new_run_id)
    new_keys: dict[str, NewAccessKey] = field(default_factory=dict)   # never persisted
    # Opens the AWS layer's write permission for the rotation's operations (see `rotation_writes`).
    permit_writes: Callable[[], AbstractContextManager[Any]] = nullcontext


@dataclass(frozen=True)
class Advance:
    """A step done: the record's next state (saved by the engine); `undo` if it cannot be saved."""

    record: RotationRecord
    undo: Callable[[], None] | None = None


@dataclass(frozen=True)
class Wait:
    """Nothing to do in this run (a grace period runs)."""

    message: str


class Rotator(Protocol):
    """One kind's state machine."""

    kind: str
    states: tuple[str, ...]

    def preflight(self, target: RotationTarget, ctx: RotationContext) -> Mapping[str, Any]:
        """Check a rotation may start (reads only); returns the new record's data. Raises RotationRefused."""

    def steps(self, target: RotationTarget, data: Mapping[str, Any]) -> list[str]:
        """What each state's step does, in order (for plans)."""

    def advance(self, target: RotationTarget, record: RotationRecord, ctx: RotationContext) -> Advance | Wait:
        """Do the step that leaves `record.state`."""


@dataclass(frozen=True)
class RotationOutcome:
    """What happened to one credential in a run."""

    kind: str
    id: str
    name: str | None
    result: str                      # completed | waiting | refused | failed
    state: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "name": self.name, "result": self.result,
                "state": self.state, "message": self.message}


def remaining_steps(rotator: Rotator, target: RotationTarget, record: RotationRecord | None,
                    data: Mapping[str, Any]) -> list[str]:
    """The plan's steps from a record's state (all of them for a new rotation)."""
    steps = rotator.steps(target, data)
    start = rotator.states.index(record.state) if record is not None and record.state in rotator.states else 0
    return steps[start:]


def rotate(rotator: Rotator, target: RotationTarget, ctx: RotationContext, *,
           stored: StoredRecord | None = None, max_steps: int | None = None) -> RotationOutcome:
    """Run a credential's rotation from its record (or from the start) until done, waiting or stopped.

    `max_steps` stops after that many steps (for operators who want to go one step at a time).
    """
    c = target.credential

    def outcome(result: str, state: str | None, message: str) -> RotationOutcome:
        log.info("%s: %s%s — %s", target.label, result, f" at {state}" if state else "", message)
        return RotationOutcome(c.kind, c.id, c.name, result, state, message)

    try:
        if target.store is None:
            rotator.preflight(target, ctx)      # a refusal about the credential itself says more
            raise RotationRefused(NO_STORE, hint=NO_STORE_HINT)
        if stored is None:
            stored = target.store.load(c.kind, c.id)
        if stored is None or stored.record.finished:
            data = rotator.preflight(target, ctx)
            record = RotationRecord.begin(c, target.instance, data, now=ctx.now, run_id=ctx.run_id)
            etag = target.store.save(record, stored.etag if stored else None)
        else:
            record, etag = stored.record, stored.etag
    except RotationRefused as exc:
        return outcome(REFUSED, None, exc.message)
    except HarnessError as exc:
        return outcome(FAILED, None, exc.message)

    done = 0
    while not record.finished and (max_steps is None or done < max_steps):
        step = record.state
        try:
            result = rotator.advance(target, record, ctx)
        except RotationRefused as exc:
            _save_stop(target, record, etag, step, exc.message, ctx)
            return outcome(REFUSED, step, exc.message)
        except (HarnessError, *AWS_ERRORS) as exc:
            message = exc.message if isinstance(exc, HarnessError) else describe_error(exc)
            _save_stop(target, record, etag, step, message, ctx)
            return outcome(FAILED, step, f"stopped at {step}: {message}; the old credential is still in place "
                                         "and a re-run continues from here")
        if isinstance(result, Wait):
            return outcome(WAITING, record.state, result.message)
        try:
            etag = target.store.save(result.record, etag)
        except HarnessError as exc:
            if result.undo is not None:
                _undo(result.undo, target)
            return outcome(FAILED, step, f"stopped after {step}: {exc.message}")
        record = result.record
        done += 1
    if record.finished:
        return outcome(COMPLETED, record.state, record.history[-1].get("note", "rotation completed"))
    return outcome(WAITING, record.state, f"stopped after {done} step(s) as asked")


def _save_stop(target: RotationTarget, record: RotationRecord, etag: str | None, step: str, message: str,
               ctx: RotationContext) -> None:
    try:
        target.store.save(record.stopped(step, message, now=ctx.now, run_id=ctx.run_id), etag)  # type: ignore[union-attr]
    except HarnessError as exc:
        log.error("%s: could not record where the rotation stopped: %s", target.label, exc.message)


def _undo(undo: Callable[[], None], target: RotationTarget) -> None:
    try:
        undo()
    except (HarnessError, *AWS_ERRORS) as exc:
        log.error("%s: could not undo the unrecorded step: %s", target.label,
                  exc.message if isinstance(exc, HarnessError) else describe_error(exc))
