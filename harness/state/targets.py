"""The part of a component instance the state checks need: where its state and locks live."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from harness.stacks.model import ComponentInstance


class ClientSource(Protocol):
    """Anything that hands out boto3 clients per service and region (`harness.aws.SessionPool`)."""

    def client(self, service: str, *, region: str | None = None) -> Any: ...


class WritableClientSource(ClientSource, Protocol):
    """A client source whose writes need an explicit, logged permission (`SessionPool.allow_writes`)."""

    def allow_writes(self, reason: str, *, operations: Collection[str] | None = None
                     ) -> AbstractContextManager[Any]: ...


@dataclass(frozen=True)
class StateTarget:
    """One instance's S3 backend: state object, lock table, lock file setting and region."""

    instance: str
    bucket: str
    state_key: str
    region: str
    lock_table: str | None
    uses_lockfile: bool
    environment_type: str | None
    backend_key: str                       # `backend.key`: the last part of every workspace's state key
    deployable: bool


def state_targets(instances: Iterable[ComponentInstance], default_region: str) -> tuple[StateTarget, ...]:
    """Targets of every non-abstract Terraform instance with an S3 backend and a resolved state key."""
    targets = []
    for instance in instances:
        if instance.component_type != "terraform" or instance.abstract:
            continue
        if instance.state_bucket is None or not instance.state_key:
            continue
        region = instance.backend.get("region") or instance.region or default_region
        targets.append(StateTarget(
            instance=instance.id, bucket=str(instance.state_bucket), state_key=instance.state_key,
            region=str(region), lock_table=instance.lock_table or None,
            uses_lockfile=instance.uses_lockfile, environment_type=instance.environment_type,
            backend_key=str(instance.backend.get("key") or "terraform.tfstate"),
            deployable=instance.deployable,
        ))
    return tuple(targets)


def by_state_object(targets: Iterable[StateTarget]) -> dict[tuple[str, str], StateTarget]:
    """Targets indexed by `(bucket, state key)`; when two share a key the first id (sorted) wins."""
    index: dict[tuple[str, str], StateTarget] = {}
    for target in sorted(targets, key=lambda t: t.instance):
        index.setdefault((target.bucket, target.state_key), target)
    return index
