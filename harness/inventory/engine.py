"""The one engine that reads live resources for every declared type.

Per (type, account, region) it lists every resource once (paginated, shared by every instance the
worker checks), indexes the listing by the id Terraform stores, and makes per-resource detail calls
only for resources that a state actually contains.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from harness.aws.session import SessionPool
from harness.errors import AwsAccessError
from harness.inventory.spec import Detail, ResourceType

Location = tuple[str | None, str]          # (account id or None for the default, region)


class LiveReadError(AwsAccessError):
    """A live read failed (access denied, throttled past retries, ...); the resource is not checked."""


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore exception ('' when it has none)."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


class _Once:
    """Compute each key once; concurrent callers of the same key wait for the first one's result."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[Any, threading.Lock] = {}
        self._values: dict[Any, Any] = {}

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._values:
                return self._values[key]
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            value = compute()
            with self._lock:
                self._values[key] = value
            return value


class LiveInventory:
    """Reads live resources through a session pool; one instance per worker process."""

    def __init__(self, pool: SessionPool, *, max_workers: int = 8) -> None:
        self._pool = pool
        self._max_workers = max_workers
        self._listings = _Once()
        self._details = _Once()

    def listing(self, rtype: ResourceType, region: str) -> Mapping[str, Mapping[str, Any]]:
        """Every live resource of a type in a region, by Terraform id (listed once per run)."""
        scope = "global" if rtype.listing.global_service else region
        key = (rtype.service, rtype.listing.operation, tuple(sorted(rtype.listing.params.items())), scope)

        def fetch() -> dict[str, Mapping[str, Any]]:
            client = self._pool.client(rtype.service, region=region)
            items = _call_paginated(client, rtype.listing.operation, rtype.listing.result_key,
                                    dict(rtype.listing.params))
            return {rtype.live_id(item): item for item in items}

        return self._listings.get(key, lambda: _guarded(fetch, f"{rtype.service}.{rtype.listing.operation}"))

    def get(self, rtype: ResourceType, resource_id: str, *, region: str) -> dict[str, Any] | None:
        """The normalised compared attributes of one live resource, or None when it does not exist."""
        item = self.listing(rtype, region).get(resource_id)
        if item is None:
            return None
        return rtype.live_attributes(self._with_details(rtype, resource_id, item, region))

    def get_many(self, rtype: ResourceType, resource_ids: Iterable[str], *,
                 region: str) -> dict[str, dict[str, Any] | LiveReadError | None]:
        """Like `get` for several ids, with detail calls in parallel (bounded); errors per id."""
        ids = list(dict.fromkeys(resource_ids))

        def one(resource_id: str) -> dict[str, Any] | LiveReadError | None:
            try:
                return self.get(rtype, resource_id, region=region)
            except LiveReadError as exc:
                return exc

        if len(ids) <= 1 or not rtype.details:
            return {rid: one(rid) for rid in ids}
        with ThreadPoolExecutor(max_workers=min(self._max_workers, len(ids))) as executor:
            return dict(zip(ids, executor.map(one, ids), strict=True))

    def _with_details(self, rtype: ResourceType, resource_id: str, item: Mapping[str, Any],
                      region: str) -> Mapping[str, Any]:
        if not rtype.details:
            return item

        def fetch() -> Mapping[str, Any]:
            client = self._pool.client(rtype.service, region=region)
            merged = dict(item)
            for detail in rtype.details:
                merged[detail.key] = _guarded(lambda d=detail: _call_detail(client, d, item),
                                              f"{rtype.service}.{detail.operation}")
            return merged

        return self._details.get((rtype.type, region, resource_id), fetch)


def _call_paginated(client: Any, operation: str, result_key: str, params: dict[str, Any]) -> list[Any]:
    if client.can_paginate(operation):
        items: list[Any] = []
        for page in client.get_paginator(operation).paginate(**params):
            items.extend(page.get(result_key, ()))
        return items
    return list(getattr(client, operation)(**params).get(result_key, ()))


def _call_detail(client: Any, detail: Detail, item: Mapping[str, Any]) -> Any:
    try:
        response = getattr(client, detail.operation)(**detail.params(item))
    except ClientError as exc:
        if error_code(exc) in detail.absent_codes:
            return detail.default
        raise
    return detail.extract(response)


def _guarded(call: Callable[[], Any], operation: str) -> Any:
    try:
        return call()
    except ClientError as exc:
        code = error_code(exc) or "error"
        raise LiveReadError(f"{operation} failed: {code}",
                            hint="check the credentials' read permissions for this service") from exc
    except BotoCoreError as exc:
        raise LiveReadError(f"{operation} failed: {exc}", hint="check the endpoint and network") from exc
