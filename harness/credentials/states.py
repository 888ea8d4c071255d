"""Read an instance's Terraform state from its S3 backend, once per instance (for the CLI)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from harness.errors import StateError
from harness.log import Redactor
from harness.stacks.model import ComponentInstance
from harness.state.model import TerraformState
from harness.state.reader import read_state

if TYPE_CHECKING:
    from harness.aws.session import SessionPool


def backend_state_reader(pool: SessionPool, redactor: Redactor) -> Callable[[ComponentInstance], TerraformState]:
    """A function returning an instance's state (cached; sensitive values registered with `redactor`)."""
    cache: dict[str, TerraformState | StateError] = {}
    lock = threading.Lock()

    def state_of(instance: ComponentInstance) -> TerraformState:
        with lock:
            cached = cache.get(instance.id)
        if cached is None:
            try:
                cached = _read(pool, redactor, instance)
            except StateError as exc:
                cached = exc
            with lock:
                cache[instance.id] = cached
        if isinstance(cached, StateError):
            raise cached
        return cached

    return state_of


def _read(pool: SessionPool, redactor: Redactor, instance: ComponentInstance) -> TerraformState:
    if instance.backend_type != "s3" or not instance.state_bucket or not instance.state_key:
        raise StateError(f"{instance.id}: backend {instance.backend_type or 'none'!r} is not an S3 backend "
                         "with a bucket", where=instance.stack_file,
                         hint="only the S3 backend is supported; set backend.s3.bucket")
    region = instance.backend.get("region") or instance.region or pool.config.default_region
    return read_state(pool.client("s3", region=region), instance.state_bucket, instance.state_key,
                      redactor=redactor)
