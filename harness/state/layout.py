"""Where Terraform's S3 backend (1.11) keeps things: state objects, lock items, digests, lock files.

    state object   <key>                                   workspace "default"
                   <workspace_key_prefix>/<ws>/<key>       other workspaces (prefix default "env:")
    lock item      DynamoDB LockID "<bucket>/<state object key>", attribute Info = LockInfo JSON
    digest item    DynamoDB LockID "<bucket>/<state object key>-md5", attribute Digest = hex MD5
    lock file      S3 object "<state object key>.tflock" holding the same LockInfo JSON
"""

from __future__ import annotations

DEFAULT_WORKSPACE = "default"
DEFAULT_WORKSPACE_KEY_PREFIX = "env:"
DIGEST_SUFFIX = "-md5"
LOCKFILE_SUFFIX = ".tflock"


def state_object_key(key: str, workspace: str = DEFAULT_WORKSPACE,
                     workspace_key_prefix: str = DEFAULT_WORKSPACE_KEY_PREFIX) -> str:
    """The S3 key of a workspace's state, e.g. `env:/dev/terraform.tfstate`."""
    if workspace == DEFAULT_WORKSPACE:
        return key
    return f"{workspace_key_prefix}/{workspace}/{key}"


def lock_item_id(bucket: str, state_key: str) -> str:
    """The DynamoDB `LockID` of the lock on a state object."""
    return f"{bucket}/{state_key}"


def digest_item_id(bucket: str, state_key: str) -> str:
    """The DynamoDB `LockID` of the item holding the state's MD5 digest (not a lock)."""
    return lock_item_id(bucket, state_key) + DIGEST_SUFFIX


def is_digest_item_id(lock_id: str) -> bool:
    """True for digest items: they share the lock table but are never locks."""
    return lock_id.endswith(DIGEST_SUFFIX)


def split_lock_item_id(lock_id: str) -> tuple[str | None, str]:
    """`(bucket, state key)` of a `LockID`; bucket None when the id has no `/` (not Terraform's shape)."""
    bucket, sep, key = lock_id.partition("/")
    return (bucket, key) if sep else (None, lock_id)


def lockfile_key(state_key: str) -> str:
    """The S3 key of the native lock file (`use_lockfile = true`) of a state object."""
    return state_key + LOCKFILE_SUFFIX


def is_lockfile_key(key: str) -> bool:
    return key.endswith(LOCKFILE_SUFFIX)


def state_key_of_lockfile(key: str) -> str:
    """The state object a `.tflock` object locks."""
    return key[: -len(LOCKFILE_SUFFIX)] if is_lockfile_key(key) else key
