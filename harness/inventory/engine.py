"""The one engine that reads live resources for every declared type.

Per (type, account, region) it lists every resource once (paginated; shared by every instance the
worker checks, through the AWS layer's single-flight), joins any second listing by id, indexes the
result by the id Terraform stores, and makes per-resource detail calls only for resources that a
state actually contains (or, for the unmanaged check, only the details that decide ownership).
All calls go through the AWS access layer: pooled, metered, retried, budgeted and read-only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from harness.aws.answers import answer_codes
from harness.aws.batching import read_each
from harness.aws.errors import error_code
from harness.aws.target import AwsTarget
from harness.errors import AwsAccessError
from harness.inventory.spec import Detail, Listing, ResourceType

if TYPE_CHECKING:
    from harness.aws.context import AwsContext


class LiveReadError(AwsAccessError):
    """A live read failed (access denied, throttled past retries, budget spent); the resource is not checked."""


@dataclass(frozen=True)
class LiveResource:
    """A live resource as the unmanaged check sees it: id, name and tags."""

    id: str
    name: str
    tags: Mapping[str, str]


class LiveInventory:
    """Reads live resources through an `AwsContext`; one per worker process."""

    def __init__(self, aws: AwsContext, *, max_workers: int = 8) -> None:
        self._aws = aws
        self._max_workers = max_workers

    # -- clients -------------------------------------------------------------------------------------
    def _client(self, rtype: ResourceType, target: AwsTarget) -> Any:
        return self._aws.pool.client_for(target, rtype.service)

    @staticmethod
    def _listing_target(rtype: ResourceType, target: AwsTarget) -> AwsTarget:
        # A global listing is made once per account, from the run's default region.
        return dataclasses.replace(target, region=None) if rtype.listing.global_service else target

    # -- listings ------------------------------------------------------------------------------------
    def listing(self, rtype: ResourceType, target: AwsTarget) -> Mapping[str, Mapping[str, Any]]:
        """Every live resource of a type at a target, by Terraform id, joins merged (listed once per run)."""
        target = self._listing_target(rtype, target)
        ident = self._aws.pool.identity(self._client(rtype, target))
        scope = "global" if rtype.listing.global_service else ident.region
        key = ("inventory", rtype.type, ident.account, scope)

        def index() -> dict[str, Mapping[str, Any]]:
            items = {rtype.live_id(item): item for item in self._list(rtype, rtype.listing, target)}
            for join in rtype.joins:
                joined = {str(_field(join.id_field, item)): item for item in self._list(rtype, join.listing, target)}
                for rid, item in list(items.items()):
                    join_key = str(_field(join.item_key, item)) if join.item_key is not None else rid
                    items[rid] = {**item, join.key: joined.get(join_key, {})}
            return items

        return self._aws.shared.do(key, index)

    def _list(self, rtype: ResourceType, listing: Listing, target: AwsTarget) -> list[Any]:
        """One (shared) paginated listing call, shaped into items."""
        service = listing.service or rtype.service
        client = self._aws.pool.client_for(target, service)
        raw = _guarded(lambda: self._aws.listing(client, listing.operation, listing.result_key, **listing.params),
                       f"{service}.{listing.operation}")
        return listing.shape(raw)

    # -- resources in a state ------------------------------------------------------------------------
    def get(self, rtype: ResourceType, resource_id: str, *, target: AwsTarget) -> dict[str, Any] | None:
        """The normalised compared attributes of one live resource, or None when it does not exist."""
        item = self.listing(rtype, target).get(resource_id)
        if item is None:
            return None
        merged = self._with_details(rtype, resource_id, item, target, rtype.details)
        if merged is None or not rtype.exists(merged):
            return None
        return rtype.live_attributes(merged)

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

    # -- resources in no state (the unmanaged check) -------------------------------------------------
    def unknown(self, rtype: ResourceType, target: AwsTarget, known_ids: Iterable[str], *,
                with_tags: bool) -> list[LiveResource]:
        """Live resources of a type whose ids are not in `known_ids`, with name and (if asked) tags.

        Only the details that decide ownership (`Detail.ownership`) are read, and only for these
        resources; a resource that vanished meanwhile, or that the provider would treat as gone,
        is left out. A failed read raises `LiveReadError` (the check could not be evaluated).
        """
        known = set(known_ids)
        listing = self.listing(rtype, target)
        candidates = [(rid, item) for rid, item in sorted(listing.items()) if rid not in known]
        details = tuple(d for d in rtype.details if d.ownership) if with_tags else ()

        def resource(entry: tuple[str, Mapping[str, Any]]) -> LiveResource | None:
            rid, item = entry
            merged = self._with_details(rtype, rid, item, target, details)
            if merged is None or not rtype.exists(merged):
                return None
            tags_attr = rtype.tags_attribute
            tags = tags_attr.live_value(merged) if (tags_attr is not None and with_tags) else {}
            return LiveResource(rid, rtype.live_name(merged), dict(tags or {}))

        reads = read_each(candidates, resource, max_workers=self._max_workers if details else 1)
        found = []
        for read in reads:
            if read.error is not None:
                raise _as_read_error(read.error)
            if read.value is not None:
                found.append(read.value)
        return found

    # -- details -------------------------------------------------------------------------------------
    def _with_details(self, rtype: ResourceType, resource_id: str, item: Mapping[str, Any],
                      target: AwsTarget, details: tuple[Detail, ...]) -> Mapping[str, Any] | None:
        if not details:
            return item
        client = self._client(rtype, target)
        ident = self._aws.pool.identity(client)

        def fetch(detail: Detail, merged: Mapping[str, Any]) -> Any:
            # Each detail is made once per resource and run, whichever read asked for it first.
            return self._aws.shared.do(
                ("inventory-detail", rtype.type, ident.account, ident.region, resource_id, detail.key),
                lambda: _guarded(lambda: _call_detail(client, detail, merged),
                                 f"{rtype.service}.{detail.operation}"))

        merged = dict(item)
        for detail in details:
            value = fetch(detail, merged)
            if value is _GONE:
                return None
            merged[detail.key] = value
        return merged


_GONE = object()   # a detail call said the resource no longer exists


def _call_detail(client: Any, detail: Detail, item: Mapping[str, Any]) -> Any:
    try:
        with answer_codes((*detail.missing_codes, *detail.absent_codes)):
            response = getattr(client, detail.operation)(**detail.params(item))
    except ClientError as exc:
        code = error_code(exc)
        if code in detail.missing_codes:
            return _GONE
        if code in detail.absent_codes:
            return detail.default
        raise
    return detail.extract(response)


def _field(source: Any, item: Mapping[str, Any]) -> Any:
    return source(item) if callable(source) else item[source]


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
