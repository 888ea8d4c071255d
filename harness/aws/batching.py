"""Fewer, fuller calls: every page of a listing, id lists cut to each API's limit, bounded fan-out.

`paginate` returns every item of a list call. `batch_read` splits an id list into chunks no larger
than the API accepts and paginates each chunk. `read_each` runs per-item reads (SQS queue
attributes, S3 bucket settings: APIs with no batch form) on a bounded thread pool, keeping each
item's error to itself so one broken resource never hides the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import jmespath
from botocore import xform_name

T = TypeVar("T")
R = TypeVar("R")

# Limits the service models do not state (the models' own `max` is used when present).
# EC2 accepts at most 200 values in one filter and we keep id lists to the same size;
# ELBv2 documents "up to 20" for load balancer and tag reads.
CHUNK_LIMITS: dict[tuple[str, str | None], int] = {
    ("ec2", None): 200,
    ("elbv2", "DescribeTags"): 20,
    ("elbv2", "DescribeLoadBalancers"): 20,
    ("elbv2", "DescribeTargetGroups"): 20,
}
DEFAULT_CHUNK = 100
DEFAULT_WORKERS = 8


def operation_name(client: Any, operation: str) -> str:
    """`ListRoles` for `list_roles` or `ListRoles` (the API name, as the meter counts it)."""
    for name in client.meta.service_model.operation_names:
        if name == operation or xform_name(name) == operation:
            return name
    raise ValueError(f"{client.meta.service_model.service_name} has no operation {operation!r}")


def paginate(client: Any, operation: str, result_key: str, **kwargs: Any) -> list[Any]:
    """Every item of a list call across all pages.

    `result_key` is a JMESPath expression over one page (`Roles`, `Reservations[].Instances[]`).
    Operations without a paginator are called once.
    """
    method = xform_name(operation_name(client, operation))
    expression = jmespath.compile(result_key)
    if client.can_paginate(method):
        pages: Iterable[dict] = client.get_paginator(method).paginate(**kwargs)
    else:
        pages = [getattr(client, method)(**kwargs)]
    items: list[Any] = []
    for page in pages:
        found = expression.search(page)
        if isinstance(found, list):
            items.extend(found)
        elif found is not None:
            items.append(found)
    return items


def chunk_limit(client: Any, operation: str, param: str | None = None) -> int:
    """The most ids one call accepts: the service model's `max` for `param`, else our table."""
    service = client.meta.service_model.service_name
    name = operation_name(client, operation)
    if param is not None:
        shape = client.meta.service_model.operation_model(name).input_shape
        member = shape.members.get(param) if shape is not None else None
        if member is not None and member.type_name in ("list", "map") and member.metadata.get("max"):
            return int(member.metadata["max"])
    return CHUNK_LIMITS.get((service, name), CHUNK_LIMITS.get((service, None), DEFAULT_CHUNK))


def chunked(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """Consecutive slices of at most `size` items (order kept)."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def batch_read(client: Any, operation: str, result_key: str, ids: Sequence[str], *,
               param: str | None = None, filter_name: str | None = None, chunk_size: int | None = None,
               **kwargs: Any) -> list[Any]:
    """Read many resources by id in as few calls as the API allows.

    The ids go into the parameter `param` (`VpcIds`) or into an EC2-style filter `filter_name`
    (`Filters=[{"Name": "vpc-id", "Values": [...]}]`, added to any `Filters` in `kwargs`).
    Duplicates are dropped; every chunk is paginated.
    """
    if (param is None) == (filter_name is None):
        raise ValueError("give exactly one of param= or filter_name=")
    unique = list(dict.fromkeys(ids))
    size = chunk_size or chunk_limit(client, operation, param)
    items: list[Any] = []
    for chunk in chunked(unique, size):
        if param is not None:
            call_args = {**kwargs, param: chunk}
        else:
            call_args = {**kwargs, "Filters": [*kwargs.get("Filters", ()),
                                               {"Name": filter_name, "Values": chunk}]}
        items.extend(paginate(client, operation, result_key, **call_args))
    return items


@dataclass(frozen=True)
class ItemRead(Generic[T, R]):
    """The result of reading one item: its value, or the exception the read raised."""

    item: T
    value: R | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def read_each(items: Iterable[T], read: Callable[[T], R], *,
              max_workers: int = DEFAULT_WORKERS) -> list[ItemRead[T, R]]:
    """Call `read(item)` for every item with at most `max_workers` in flight; results in input order.

    Exceptions are caught per item (`ItemRead.error`), never raised, so the caller can report each
    failed item as an error and still use the others.
    """
    if max_workers < 1:
        raise ValueError("max_workers must be at least 1")
    items = list(items)

    def one(item: T) -> ItemRead[T, R]:
        try:
            return ItemRead(item, value=read(item))
        except Exception as exc:  # kept with the item; reported by the caller
            return ItemRead(item, error=exc)

    if len(items) <= 1 or max_workers == 1:
        return [one(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(max_workers, len(items)),
                            thread_name_prefix="stackharness-read") as pool:
        return list(pool.map(one, items))
