"""Credential rotation: choose what to rotate, plan it without writing, run it step by step.

`plan_rotations` only reads; `run_rotations` writes through `CredentialWriter` (the one module
that needs the AWS write permission). Every kind has its own small state machine (see the
modules here and docs/credentials.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.config import HarnessConfig
from harness.credentials.check import CredentialReport
from harness.credentials.linking import instance_region
from harness.credentials.model import (
    ACM_CERTIFICATE,
    CRITICAL,
    EXPIRED,
    EXPIRING,
    OVERDUE,
    Credential,
    CredentialRow,
)
from harness.credentials.policy import policy_for
from harness.credentials.records import DEFAULT_PREFIX, RecordStore, RotationRecord, StoredRecord, StoreLocation
from harness.credentials.rotation.access_key import AccessKeyRotator
from harness.credentials.rotation.acm import AcmRotator
from harness.credentials.rotation.engine import (
    NO_STORE,
    NO_STORE_HINT,
    REFUSED,
    RotationContext,
    RotationOutcome,
    RotationRefused,
    RotationTarget,
    Rotator,
    remaining_steps,
    rotate,
)
from harness.credentials.rotation.secret import SecretRotator
from harness.credentials.rotation.server_certificate import ServerCertificateRotator
from harness.errors import HarnessError, UsageError
from harness.stacks.model import ComponentInstance, StackSet

ROTATORS: Mapping[str, Rotator] = {r.kind: r for r in (AccessKeyRotator(), SecretRotator(), AcmRotator(),
                                                       ServerCertificateRotator())}
DUE_STATUSES = frozenset({EXPIRING, CRITICAL, EXPIRED, OVERDUE})
Selected = tuple[RotationTarget, StoredRecord | None]        # a target and its record, when one was read

__all__ = ["ROTATORS", "PlanItem", "RotationContext", "RotationOutcome", "RotationTarget", "plan_rotations",
           "run_rotations", "select_targets"]


@dataclass(frozen=True)
class PlanItem:
    """What a rotation run would do for one credential."""

    kind: str
    id: str
    name: str | None
    instance: str | None
    status: str | None
    action: str                      # start | continue | refused
    state: str | None
    steps: tuple[str, ...]
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "name": self.name, "instance": self.instance,
                "status": self.status, "action": self.action, "state": self.state, "steps": list(self.steps),
                "message": self.message}


def store_location(config: HarnessConfig, instance: ComponentInstance | None) -> StoreLocation | None:
    """`rotation_store` when set, else the managing instance's backend bucket (prefix stackharness/rotations/)."""
    if config.rotation_store:
        return StoreLocation.parse(config.rotation_store)
    if instance is not None and instance.state_bucket:
        region = instance.backend.get("region") or instance.region or config.default_region
        return StoreLocation(instance.state_bucket, DEFAULT_PREFIX, region)
    return None


def candidate_locations(config: HarnessConfig, instances: Iterable[ComponentInstance]) -> list[StoreLocation]:
    """Every store a record may be in: the configured one, or each backend bucket of the instances."""
    if config.rotation_store:
        return [StoreLocation.parse(config.rotation_store)]
    locations = {store_location(config, i) for i in instances}
    return sorted((loc for loc in locations if loc is not None), key=lambda loc: loc.url)


def _rotatable(row: CredentialRow) -> bool:
    c = row.credential
    return c.kind in ROTATORS and not (c.kind == ACM_CERTIFICATE and c.details.get("type") != "IMPORTED")


def select_targets(report: CredentialReport, stack_set: StackSet, config: HarnessConfig, ctx: RotationContext, *,
                   kind: str | None = None, credential_id: str | None = None, due: bool = False,
                   instances: Iterable[ComponentInstance] | None = None) -> list[Selected]:
    """The credentials to rotate and their records: one by `credential_id`, or everything due.

    Due: rows the policy marks expiring, critical, expired or overdue (of a kind the harness can
    rotate), and every credential whose rotation record says it is unfinished (whose replacement is
    left alone until that rotation completes).
    """
    if (credential_id is None) == (not due):
        raise UsageError("say what to rotate: --id ID or --due (not both)",
                         hint="stackharness creds check lists the credentials and their ids")
    if kind is not None and kind not in ROTATORS:
        raise UsageError(f"{kind} credentials are not rotated by stackharness",
                         hint=f"rotatable kinds: {', '.join(sorted(ROTATORS))} (KMS rotates key material itself)")
    instances = list(stack_set.deployable if instances is None else instances)
    regions = tuple(sorted({instance_region(i, config) for i in instances}))
    rows = [r for r in report.rows if kind is None or r.credential.kind == kind]
    if credential_id is not None:
        chosen = [r for r in rows if r.credential.matches(credential_id)]
        if not chosen:
            raise UsageError(f"no credential {credential_id!r}{f' of kind {kind}' if kind else ''} in the scopes of "
                             "the selected instances", hint="stackharness creds check lists ids, ARNs and names")
        if len(chosen) > 1:
            raise UsageError(f"{credential_id!r} names {len(chosen)} credentials: "
                             + ", ".join(f"{r.credential.kind} {r.credential.id}" for r in chosen[:5]),
                             hint="pass the id (and --kind)")
        if chosen[0].credential.kind not in ROTATORS:
            raise UsageError(f"{chosen[0].credential.kind} credentials are not rotated by stackharness",
                             hint=f"rotatable kinds: {', '.join(sorted(ROTATORS))}")
        return [(_target(chosen[0], stack_set, config, ctx, regions), None)]

    targets: dict[tuple[str, str], Selected] = {}
    by_key = {(r.credential.kind, r.credential.id): r for r in report.rows}
    replacements: set[tuple[str, str]] = set()       # new credentials of unfinished rotations
    for location in candidate_locations(config, stack_set.deployable):
        store = RecordStore(location, ctx.clients, ctx.writer)
        for stored in store.records():
            record = stored.record
            if record.finished or (kind is not None and record.kind != kind) or record.kind not in ROTATORS:
                continue
            row = by_key.get((record.kind, record.credential_id))
            target = (_target(row, stack_set, config, ctx, regions) if row is not None
                      else _target_from_record(record, stack_set, config, store, regions))
            targets[(record.kind, record.credential_id)] = (target, stored)
            for new in (record.data.get("new_key_id"), record.data.get("new_name")):
                if new:
                    replacements.add((record.kind, new))
    for row in rows:
        key = (row.credential.kind, row.credential.id)
        if row.status in DUE_STATUSES and _rotatable(row) and key not in targets and key not in replacements:
            targets[key] = (_target(row, stack_set, config, ctx, regions), None)
    return [targets[key] for key in sorted(targets)]


def _target(row: CredentialRow, stack_set: StackSet, config: HarnessConfig, ctx: RotationContext,
            regions: tuple[str, ...]) -> RotationTarget:
    instance = stack_set.get(row.instance) if row.instance else None
    location = store_location(config, instance)
    store = RecordStore(location, ctx.clients, ctx.writer) if location else None
    env_type = instance.environment_type if instance else None
    policy = (policy_for(config.profile_for(env_type), row.credential.kind) if instance
              else policy_for(config.profile_for(row.policy.get("profile")), row.credential.kind))
    return RotationTarget(row.credential, policy, row.instance, store, row, regions)


def _target_from_record(record: RotationRecord, stack_set: StackSet, config: HarnessConfig, store: RecordStore,
                        regions: tuple[str, ...]) -> RotationTarget:
    """A target for an unfinished record whose credential is no longer listed (e.g. deleted by hand)."""
    credential = Credential(kind=record.kind, id=record.credential_id, arn=record.arn, name=record.name,
                            account=record.account, region=record.region)
    instance = stack_set.get(record.instance) if record.instance else None
    policy = policy_for(config.profile_for(instance.environment_type if instance else None), record.kind)
    return RotationTarget(credential, policy, record.instance, store, None, regions)


def plan_rotations(targets: Iterable[Selected], ctx: RotationContext) -> list[PlanItem]:
    """What a run would do for each target, reading only (records, keys, certificate sources)."""
    items = []
    for target, stored in targets:
        c, rotator = target.credential, ROTATORS[target.credential.kind]
        status = target.row.status if target.row else None

        def item(action: str, state: str | None, steps: list[str], message: str,
                 c: Credential = c, target: RotationTarget = target, status: str | None = status) -> PlanItem:
            return PlanItem(c.kind, c.id, c.name, target.instance, status, action, state, tuple(steps), message)

        try:
            if target.store is None:
                rotator.preflight(target, ctx)
                raise RotationRefused(NO_STORE, hint=NO_STORE_HINT)
            stored = stored or target.store.load(c.kind, c.id)
            if stored is not None and not stored.record.finished:
                record = stored.record
                stop = f"; stopped at {record.error['step']}: {record.error['message']}" if record.error else ""
                items.append(item("continue", record.state, remaining_steps(rotator, target, record, record.data),
                                  f"continue from {record.state}{stop}"))
                continue
            data = rotator.preflight(target, ctx)
            items.append(item("start", None, remaining_steps(rotator, target, None, data), "rotate"))
        except RotationRefused as exc:
            items.append(item(REFUSED, None, [], exc.message))
        except HarnessError as exc:
            items.append(item(REFUSED, None, [], exc.message))
    return items


def run_rotations(targets: Iterable[Selected], ctx: RotationContext, *,
                  max_steps: int | None = None) -> list[RotationOutcome]:
    """Rotate each target (one failing never stops the others), inside the rotation's write permission."""
    with ctx.permit_writes():
        return [rotate(ROTATORS[t.credential.kind], t, ctx, stored=stored, max_steps=max_steps)
                for t, stored in targets]
