"""The declaration of a live resource type, in the style of Cloud Custodian's `TypeInfo`.

Adding a Terraform resource type is data: which boto3 call lists it, which per-resource calls
add what the listing lacks, how to find the id Terraform stores, and how API fields map to the
Terraform attributes we compare (with normalisers towards what the AWS provider v5 writes).
One engine (`harness.inventory.engine`) makes every call.

Example (trimmed)::

    ResourceType(
        type="aws_security_group", service="ec2",
        listing=Listing("describe_security_groups", "SecurityGroups"),
        id_field="GroupId",
        attributes=(Attr("name", "GroupName"), Attr("ingress", sg_ingress, compare="set"), TAGS),
    )
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Extract = Callable[[Mapping[str, Any]], Any]

COMPARE_MODES = ("value", "set", "json", "tags")


@dataclass(frozen=True)
class Listing:
    """One (paginated) call that returns every resource of the type in an account and region."""

    operation: str                         # boto3 method name, e.g. "describe_security_groups"
    result_key: str                        # the list in each page, e.g. "SecurityGroups"
    params: Mapping[str, Any] = field(default_factory=dict)
    global_service: bool = False           # one listing serves every region (IAM, S3 ListBuckets)


@dataclass(frozen=True)
class Detail:
    """A per-resource call for fields the listing lacks; made only for resources found in a state.

    `params` builds the call's arguments from the listed item; the response (or `extract` of it)
    is stored on the item under `key`. Error codes in `absent_codes` mean "not configured" and
    store `default` instead (S3 answers `NoSuchTagSet` for a bucket without tags).
    """

    key: str
    operation: str
    params: Callable[[Mapping[str, Any]], Mapping[str, Any]]
    extract: Extract = lambda response: response
    absent_codes: tuple[str, ...] = ()
    default: Any = None


def _identity(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Attr:
    """A compared Terraform attribute: where its live value comes from and how both sides normalise.

    `source` is an API field name of the listed item (after details are merged) or a function of
    the item. `live` normalises the live value towards the provider's state form; `state`
    normalises the state value (e.g. sort a set, parse a JSON document) so both compare equal when
    nothing drifted. `compare` is `value` (deep equality), `set` (order-free list of elements,
    reported as added/removed elements), `json` (parsed JSON documents) or `tags` (per key, named
    `tags.<key>` or `tags_all.<key>`).
    """

    name: str
    source: str | Extract
    live: Callable[[Any], Any] = _identity
    state: Callable[[Any], Any] = _identity
    compare: str = "value"

    def __post_init__(self) -> None:
        if self.compare not in COMPARE_MODES:
            raise ValueError(f"unknown compare mode {self.compare!r} for {self.name}")

    def live_value(self, item: Mapping[str, Any]) -> Any:
        raw = self.source(item) if callable(self.source) else item.get(self.source)
        return self.live(raw)


@dataclass(frozen=True)
class ResourceType:
    """Everything the engine needs to read one Terraform resource type from live AWS."""

    type: str                              # Terraform type, e.g. "aws_s3_bucket"
    service: str                           # boto3 service name
    listing: Listing
    id_field: str | Extract                # the live item's field holding Terraform's `id`
    attributes: tuple[Attr, ...]
    details: tuple[Detail, ...] = ()
    # The id Terraform stores may differ from the listed id (e.g. a composite); map state -> live.
    state_id: Callable[[Mapping[str, Any]], str | None] = lambda attrs: attrs.get("id")

    def live_id(self, item: Mapping[str, Any]) -> str:
        value = self.id_field(item) if callable(self.id_field) else item[self.id_field]
        return str(value)

    def live_attributes(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """The compared attributes of a live item (details already merged), normalised."""
        return {attr.name: attr.live_value(item) for attr in self.attributes}
