"""Hold a Terraform-compatible DynamoDB state lock for a block of code (the `state_lock` fixture).

While it is held, `terraform plan/apply` on that state waits or fails exactly as if another Terraform
held it, so a check reading live resources never races an apply.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from harness import __version__
from harness.errors import AwsAccessError, StateError
from harness.state.lockinfo import LockInfo, LockInfoError, new_lock_info, parse_lock_info
from harness.state.writes import LockChanged, delete_lock_item, put_lock_item

log = logging.getLogger(__name__)

_RELEASE_ATTEMPTS = 3


class StateLockTimeout(StateError):
    """The state stayed locked by someone else for longer than the wait allowed."""


@contextmanager
def hold_state_lock(dynamodb: Any, table: str, lock_id_key: str, *, operation: str = "stackharness-check",
                    who: str | None = None, timeout: float = 120.0, poll_interval: float = 2.0,
                    info: str = "", clock: Callable[[], float] = time.monotonic,
                    sleep: Callable[[float], None] = time.sleep) -> Iterator[LockInfo]:
    """Acquire the lock item `lock_id_key` (`<bucket>/<state key>`) in `table`, yield its LockInfo,
    and always release it.

    Acquiring is Terraform's own write (`attribute_not_exists(LockID)`). While someone else holds
    the lock it retries every `poll_interval` seconds up to `timeout`, then raises `StateLockTimeout`
    naming the holder. Releasing deletes the item only if it still holds this lock's exact Info; if
    someone force-unlocked it meanwhile, that is logged and nothing else is deleted.
    """
    deadline = clock() + timeout
    while True:
        lock = new_lock_info(operation=operation, path=lock_id_key, who=who, info=info,
                             version=f"stackharness {__version__}")
        if put_lock_item(dynamodb, table, lock_id_key, lock.to_json()):
            break
        remaining = deadline - clock()
        if remaining <= 0:
            raise StateLockTimeout(f"state lock is held by {_holder(dynamodb, table, lock_id_key)}",
                                   where=f"dynamodb://{table}/{lock_id_key}",
                                   hint=f"waited {timeout:g}s; wait for it to finish, or if it is abandoned "
                                        "remove it with `stackharness locks clean`")
        log.info("state %s is locked; retrying in %.1fs", lock_id_key, min(poll_interval, remaining))
        sleep(min(poll_interval, remaining))
    log.debug("acquired state lock %s (%s)", lock_id_key, lock.id)
    try:
        yield lock
    finally:
        _release(dynamodb, table, lock_id_key, lock)


def _release(dynamodb: Any, table: str, lock_id_key: str, lock: LockInfo) -> None:
    for attempt in range(1, _RELEASE_ATTEMPTS + 1):
        try:
            delete_lock_item(dynamodb, table, lock_id_key, lock.to_json())
            log.debug("released state lock %s (%s)", lock_id_key, lock.id)
            return
        except LockChanged:
            log.warning("state lock %s (%s) was removed or replaced by someone else while held; "
                        "left as it is", lock_id_key, lock.id)
            return
        except (ClientError, BotoCoreError, AwsAccessError) as exc:
            if attempt == _RELEASE_ATTEMPTS or isinstance(exc, AwsAccessError):   # a budget never refills
                raise StateError(f"could not release state lock {lock.id}: {exc}",
                                 where=f"dynamodb://{table}/{lock_id_key}",
                                 hint=f"run `terraform force-unlock {lock.id}` in the component") from exc
            time.sleep(0.5 * attempt)


def _holder(dynamodb: Any, table: str, lock_id_key: str) -> str:
    """A one-line description of who holds the lock now (best effort)."""
    try:
        item = dynamodb.get_item(TableName=table, Key={"LockID": {"S": lock_id_key}},
                                 ConsistentRead=True).get("Item") or {}
        holder = parse_lock_info(item.get("Info", {}).get("S", ""))
    except (ClientError, BotoCoreError, AwsAccessError, LockInfoError):
        return "another process (its lock info is unreadable)"
    return f"{holder.id} ({holder.operation or 'unknown operation'} by {holder.who or 'unknown'} " \
           f"since {holder.created_text or 'an unknown time'})"
