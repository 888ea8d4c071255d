"""The one engine that reads live resources for every declared type.

Per (type, account, region) it lists every resource once (paginated; shared by every instance the
worker checks, through the AWS layer's single-flight), indexes the listing by the id Terraform
stores, and makes per-resource detail calls only for resources that a state actually contains.
All calls go through the AWS access layer: pooled, metered, retried, budgeted and read-only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from harness.aws.batching import read_each
from harness.aws.context import AwsContext
from harness.aws.errors import error_code
from harness.aws.target import AwsTarget
from harness.errors import AwsAccessError
from harness.inventory.spec import Detail, ResourceType


class LiveReadError(AwsAccessError):
    """A live read failed (access denied, throttled past retries, budget spent); the resource is not checked."""


class LiveInventory:
    """Reads live resources through an `AwsContext`; one per worker process."""

    def __init__(self, aws: AwsContext, *, max_workers: int = 8) -> None:
        self._aws = aws
        self._max_workers = max_workers

    def _client(self, rtype: ResourceType, target: AwsTarget) -> Any:
        return self._aws.pool.client_for(target, rtype.service)

    def listing(self, rtype: ResourceType, target: AwsTarget) -> Mapping[str, Mapping[str, Any]]:
        """Every live resource of a type at a target, by Terraform id (listed once per run)."""
        client = self._client(rtype, target)
        ident = self._aws.pool.identity(client)
        scope = "global" if rtype.listing.global_service else ident.region
        key = ("inventory", rtype.type, ident.account, scope)

        def index() -> dict[str, Mapping[str, Any]]:
            items = _guarded(lambda: self._aws.listing(client, rtype.listing.operation, rtype.listing.result_key,
                                                       **rtype.listing.params),
                             f"{rtype.service}.{rtype.listing.operation}")
            return {rtype.live_id(item): item for item in items}

        return self._aws.shared.do(key, index)

    def get(self, rtype: ResourceType, resource_id: str, *, target: AwsTarget) -> dict[str, Any] | None:
        """The normalised compared attributes of one live resource, or None when it does not exist."""
        item = self.listing(rtype, target).get(resource_id)
        if item is None:
            return None
        return rtype.live_attributes(self._with_details(rtype, resource_id, item, target))

    def get_many(self, rtype: ResourceType, resource_ids: Iterable[str], *,
                 target: AwsTarget) -> dict[str, dict[str, Any] | LiveReadError | None]:
        """Like `get` for several ids, with detail calls in parallel (bounded); errors per id.

        A failed listing fails every id (raised); a failed detail call fails only its resource.
        """
        ids = list(dict.fromkeys(resource_ids))
        self.listing(rtype, target)
        workers = self._max_workers if rtype.details else 1   # without details every read is a lookup
        reads = read_each(ids, lambda rid: self.get(rtype, rid, target=target), max_workers=workers)
        return {r.item: r.value if r.error is None else _as_read_error(r.error) for r in reads}

    def _with_details(self, rtype: ResourceType, resource_id: str, item: Mapping[str, Any],
                      target: AwsTarget) -> Mapping[str, Any]:
        if not rtype.details:
            return item
        client = self._client(rtype, target)
        ident = self._aws.pool.identity(client)

        def fetch() -> Mapping[str, Any]:
            merged = dict(item)
            for detail in rtype.details:
                merged[detail.key] = _guarded(lambda d=detail: _call_detail(client, d, item),
                                              f"{rtype.service}.{detail.operation}")
            return merged

        return self._aws.shared.do(("inventory-detail", rtype.type, ident.account, ident.region, resource_id), fetch)


def _call_detail(client: Any, detail: Detail, item: Mapping[str, Any]) -> Any:
    try:
        response = getattr(client, detail.operation)(**detail.params(item))
    except ClientError as exc:
        if error_code(exc) in detail.absent_codes:
            return detail.default
        raise
    return detail.extract(response)


def _as_read_error(exc: BaseException) -> LiveReadError:
    """Per-resource read failures are reported; anything else is a bug and propagates."""
    if isinstance(exc, LiveReadError):
        return exc
    raise exc


def _guarded(call: Callable[[], Any], operation: str) -> Any:
    try:
        return call()
    except LiveReadError:
        raise
    except AwsAccessError as exc:  # budget spent, read-only guard
        raise LiveReadError(f"{operation} not made: {exc.what}", hint=exc.hint) from exc
    except ClientError as exc:
        code = error_code(exc) or "error"
        raise LiveReadError(f"{operation} failed: {code}",
                            hint="check the credentials' read permissions for this service") from exc
    except BotoCoreError as exc:
        raise LiveReadError(f"{operation} failed: {exc}", hint="check the endpoint and network") from exc
