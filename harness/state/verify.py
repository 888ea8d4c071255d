"""Consistency checks of every instance's state: parse, version, digest, serial, lineage, missing,
orphans and resource types the inventory cannot check.

Each check yields a row `{instance, check, status, detail}` with status ok, warn or fail; a check
that could not be evaluated is a `fail` with the reason, never an `ok`. A check the AWS layer did
not let us make (`--api-budget` spent) is a `fail` marked `not_checked`: the run is incomplete.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from harness.config import HarnessConfig
from harness.errors import ApiBudgetExceeded, AwsAccessError, StateError
from harness.log import Redactor
from harness.stacks.model import ComponentInstance
from harness.state.history import read_history, serial_and_lineage
from harness.state.layout import digest_item_id, is_lockfile_key
from harness.state.model import TerraformState
from harness.state.reader import MissingStateError, StateObject, fetch_state_object, parse_state
from harness.state.targets import ClientSource, StateTarget, state_targets

OK, WARN, FAIL = "ok", "warn", "fail"
CHECKS = ("parse", "version", "digest", "serial", "lineage", "missing", "orphan", "unchecked_types")
# Resources of Terraform's built-in provider (terraform_data, terraform_remote_state) have nothing live.
_BUILTIN_PROVIDER = "terraform.io/builtin/terraform"
_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


@dataclass(frozen=True)
class CheckRow:
    """One verification result; `instance` is None for orphaned states."""

    instance: str | None
    check: str
    status: str
    detail: str
    not_checked: bool = False              # the call was not made (budget spent): an error, not a verdict

    def to_dict(self) -> dict[str, Any]:
        return {"instance": self.instance, "check": self.check, "status": self.status, "detail": self.detail}


def verify_states(instances: Iterable[ComponentInstance], clients: ClientSource, *, config: HarnessConfig,
                  known_types: Collection[str], redactor: Redactor | None = None,
                  max_versions: int = 50, workers: int = 8) -> tuple[CheckRow, ...]:
    """Verify the state of every deployable instance with an S3 backend, then look for orphaned states.

    `known_types` are the resource types the drift inventory can check; other managed types are
    listed under `unchecked_types`. One instance's failure never stops the others.
    """
    targets = state_targets(instances, config.default_region)
    deployable = [t for t in targets if t.deployable]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        per_instance = list(pool.map(
            lambda t: _safely(t, clients, config, frozenset(known_types), redactor, max_versions),
            deployable))
    rows = [row for rows in per_instance for row in rows]
    rows.extend(_orphans(targets, clients))
    return tuple(rows)


def verify_instance(instance: ComponentInstance, clients: ClientSource, *, config: HarnessConfig,
                    known_types: Collection[str], redactor: Redactor | None = None,
                    max_versions: int = 50) -> tuple[CheckRow, ...]:
    """The rows of one instance (no orphan scan: that needs every instance of the repo)."""
    targets = state_targets([instance], config.default_region)
    if not targets:
        return (CheckRow(instance.id, "parse", FAIL,
                         f"no S3 backend with a bucket and state key (backend {instance.backend_type or 'none'!r})"),)
    return tuple(_safely(targets[0], clients, config, frozenset(known_types), redactor, max_versions))


def failed(rows: Iterable[CheckRow]) -> bool:
    """True when any row failed (the CLI exits 1)."""
    return any(row.status == FAIL for row in rows)


def incomplete(rows: Iterable[CheckRow]) -> bool:
    """True when some check was not made because the API budget was spent (the CLI exits 2)."""
    return any(row.not_checked for row in rows)


def _not_made(instance: str | None, check: str, exc: AwsAccessError, what: str = "") -> CheckRow:
    """A `fail` row for a check whose AWS call was refused (budget, read-only guard, role)."""
    return CheckRow(instance, check, FAIL, f"not checked: {what}{exc.what}",
                    not_checked=isinstance(exc, ApiBudgetExceeded))


def _safely(target: StateTarget, *args: Any) -> list[CheckRow]:
    """One instance's rows; an unexpected error becomes a `fail` row for it alone, never a crash."""
    try:
        return _verify_target(target, *args)
    except Exception as exc:  # the other instances must still be verified
        return [CheckRow(target.instance, "parse", FAIL,
                         f"could not evaluate: {type(exc).__name__}: {_error_text(exc)}",
                         not_checked=isinstance(exc, ApiBudgetExceeded))]


def _verify_target(target: StateTarget, clients: ClientSource, config: HarnessConfig,
                   known_types: frozenset[str], redactor: Redactor | None,
                   max_versions: int) -> list[CheckRow]:
    s3 = clients.client("s3", region=target.region)

    def row(check: str, status: str, detail: str) -> CheckRow:
        return CheckRow(target.instance, check, status, detail)

    try:
        obj: StateObject | None = fetch_state_object(s3, target.bucket, target.state_key)
    except MissingStateError as exc:
        obj = None
        rows = [row("missing", WARN, exc.message)]
    except StateError as exc:
        return [row("parse", FAIL, exc.message)]
    except BotoCoreError as exc:
        return [row("parse", FAIL, f"cannot read state s3://{target.bucket}/{target.state_key}: {exc}")]
    except AwsAccessError as exc:
        return [_not_made(target.instance, "parse", exc)]
    state: TerraformState | None = None
    if obj is not None:
        try:
            state = parse_state(obj.body, source=obj.source, redactor=redactor)
            rows = [row("parse", OK, f"version {state.version}, serial {state.serial}, "
                                     f"{len(state.resources)} resource instance(s)")]
        except StateError as exc:
            rows = [row("parse", FAIL, exc.message)]
        if state is not None:
            rows.append(row("version", *_version_check(state.terraform_version,
                                                       config.max_terraform_version)))
    try:
        digest = _digest_check(target, clients, obj)
    except AwsAccessError as exc:
        rows.append(_not_made(target.instance, "digest", exc))
    else:
        if obj is not None or digest[0] != OK:
            rows.append(row("digest", *digest))
    if obj is not None:
        try:
            history = read_history(s3, target.bucket, target.state_key, max_versions=max_versions)
            serial, lineage = serial_and_lineage(history)
            rows.extend((row("serial", *serial), row("lineage", *lineage)))
        except AwsAccessError as exc:
            rows.extend(_not_made(target.instance, check, exc) for check in ("serial", "lineage"))
        except (ClientError, BotoCoreError) as exc:
            unread = (FAIL, f"could not read the object's versions: {_error_text(exc)}")
            rows.extend((row("serial", *unread), row("lineage", *unread)))
    if state is not None:
        rows.append(row("unchecked_types", *_unchecked_types(state, known_types)))
    return rows


def _version_check(version: str, maximum: str | None) -> tuple[str, str]:
    found = _version_key(version)
    if found is None:
        return FAIL, f"terraform_version {version!r} is not a version"
    if maximum is None:
        return OK, f"terraform_version {version} (no max_terraform_version configured)"
    limit = _version_key(maximum)
    if limit is None:
        return FAIL, f"max_terraform_version {maximum!r} is not a version"
    if found > limit:
        return FAIL, (f"terraform_version {version} is newer than max_terraform_version {maximum}: "
                      "older Terraform cannot read this state")
    return OK, f"terraform_version {version} <= {maximum}"


def _version_key(text: str) -> tuple[int, int, int, int] | None:
    """Sortable key of `1.11.4` (a pre-release like `1.12.0-beta1` sorts before its release)."""
    match = _VERSION.match(text.strip())
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3)), 0 if match.group(4) else 1


def _digest_check(target: StateTarget, clients: ClientSource, obj: StateObject | None) -> tuple[str, str]:
    """Decide as Terraform 1.11 does when it loads the state.

    Terraform compares only a Digest that decodes to 16 bytes of hex; anything else (no item, an
    empty, non-hex or non-string Digest) it logs and ignores. A valid Digest that differs from the
    MD5 of the object's bytes (or any valid Digest when the object is missing) makes it fail with
    "state data in S3 does not have the expected content".
    """
    if not target.lock_table:
        return OK, "no dynamodb_table: Terraform keeps no digest"
    item_id = digest_item_id(target.bucket, target.state_key)
    try:
        item = clients.client("dynamodb", region=target.region).get_item(
            TableName=target.lock_table, Key={"LockID": {"S": item_id}}, ConsistentRead=True).get("Item")
    except (ClientError, BotoCoreError) as exc:
        return FAIL, f"could not read digest item {item_id} in {target.lock_table}: {_error_text(exc)}"
    if item is None:
        return OK, "no digest item (Terraform skips the check)"
    attribute = item.get("Digest")
    stored = attribute.get("S") if isinstance(attribute, dict) else None
    if stored is None or not re.fullmatch(r"[0-9A-Fa-f]{32}", stored):
        shown = "missing" if attribute is None else repr(stored if stored is not None else attribute)
        return WARN, f"digest item {item_id} holds no MD5 (Digest {shown}); Terraform ignores it"
    actual = hashlib.md5(obj.body).hexdigest() if obj is not None else None
    if actual is None:
        return FAIL, (f"digest item {item_id} expects {stored.lower()} but there is no state object: "
                      "Terraform fails to load this state; remove the digest item or restore the state")
    if stored.lower() != actual:
        return FAIL, (f"digest mismatch: {item_id} says {stored.lower()}, the state's MD5 is {actual}; "
                      "Terraform refuses to load this state (if the state is right, set Digest to "
                      f"{actual}, else restore the matching version)")
    return OK, f"MD5 {actual} matches"


def _unchecked_types(state: TerraformState, known_types: frozenset[str]) -> tuple[str, str]:
    managed = [r for r in state.managed_resources if _BUILTIN_PROVIDER not in r.provider]
    unknown = Counter(r.type for r in managed if r.type not in known_types)
    if not unknown:
        return OK, f"all {len(managed)} managed resource instance(s) have a checkable type"
    listed = ", ".join(f"{name} ({count})" for name, count in sorted(unknown.items()))
    return WARN, f"not checkable for drift: {listed}"


def _orphans(targets: tuple[StateTarget, ...], clients: ClientSource) -> list[CheckRow]:
    """States in the instances' buckets that no instance (deployable or not) owns."""
    rows = []
    buckets: dict[tuple[str, str], list[StateTarget]] = {}
    for target in targets:
        buckets.setdefault((target.region, target.bucket), []).append(target)
    for (region, bucket), owners in sorted(buckets.items()):
        owned = {t.state_key for t in owners}
        names = {t.backend_key.rsplit("/", 1)[-1] for t in owners}
        try:
            keys = _state_like_keys(clients.client("s3", region=region), bucket, names)
        except (ClientError, BotoCoreError) as exc:
            rows.append(CheckRow(None, "orphan", FAIL, f"could not list s3://{bucket}: {_error_text(exc)}"))
            continue
        except AwsAccessError as exc:
            rows.append(_not_made(None, "orphan", exc, f"s3://{bucket}: "))
            continue
        rows.extend(CheckRow(None, "orphan", WARN, f"{key} (bucket {bucket}) belongs to no instance")
                    for key in keys if key not in owned)
    return rows


def _state_like_keys(s3: Any, bucket: str, names: set[str]) -> list[str]:
    """Objects that look like states: ending in `.tfstate` or named like the instances' backend keys."""
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", []):
            key = entry["Key"]
            if is_lockfile_key(key):
                continue
            if key.endswith(".tfstate") or key.rsplit("/", 1)[-1] in names:
                keys.append(key)
    return sorted(keys)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
    return str(exc)
