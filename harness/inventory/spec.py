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


def _unchanged(items: list[Any]) -> list[Any]:
    return items


@dataclass(frozen=True)
class Listing:
    """One (paginated) call that returns every resource of the type in an account and region.

    Listings with the same operation, result key and parameters are made once per run and shared
    by every type that declares them (the four S3 types share `ListBuckets`, the four IAM types
    one `GetAccountAuthorizationDetails`). `shape` turns the listed items into one item per
    resource (names into dicts, a role's attached policies into attachments, ...).
    """

    operation: str                         # boto3 method name, e.g. "describe_security_groups"
    result_key: str                        # JMESPath over one page, e.g. "SecurityGroups" ("@": the page)
    params: Mapping[str, Any] = field(default_factory=dict)
    global_service: bool = False           # one listing serves every region (IAM, S3 ListBuckets)
    shape: Callable[[list[Any]], list[Any]] = _unchanged
    service: str | None = None             # the boto3 service of the call, when not the type's own


@dataclass(frozen=True)
class Join:
    """A second shared listing merged into each item by id (fields the first listing lacks, in bulk).

    `aws_iam_role` takes policies and tags from `GetAccountAuthorizationDetails` and the description
    and maximum session duration from `ListRoles`: two calls per account instead of one per role.
    """

    key: str                               # the joined item is stored under this key ({} when absent)
    listing: Listing
    id_field: str | Extract                # the joined item's key ...
    item_key: Extract | None = None        # ... equal to this of the listed item (default: its live id)


@dataclass(frozen=True)
class Detail:
    """A per-resource call for fields the listing lacks; made only for resources found in a state.

    `params` builds the call's arguments from the item (listing fields plus earlier details); the
    response (or `extract` of it) is stored on the item under `key`. Error codes in `absent_codes`
    mean "not configured" and store `default` instead (S3 answers `NoSuchTagSet` for a bucket
    without tags); codes in `missing_codes` mean the resource itself is gone (S3 answers
    `NoSuchPublicAccessBlockConfiguration` once the `aws_s3_bucket_public_access_block` is deleted).
    `ownership` marks the details the unmanaged check needs (tags, existence).
    """

    key: str
    operation: str
    params: Callable[[Mapping[str, Any]], Mapping[str, Any]]
    extract: Extract = lambda response: response
    absent_codes: tuple[str, ...] = ()
    default: Any = None
    missing_codes: tuple[str, ...] = ()
    ownership: bool = False


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


def _always(item: Mapping[str, Any]) -> bool:
    return True


def _state_id(attributes: Mapping[str, Any]) -> str | None:
    value = attributes.get("id")
    return str(value) if value is not None else None


@dataclass(frozen=True)
class ResourceType:
    """Everything the engine needs to read one Terraform resource type from live AWS.

    `state_id` maps a state's attributes to the live id when Terraform's `id` is not the id the
    listing knows (`aws_iam_role_policy_attachment` stores a generated id; the live pair is
    `role/policy_arn`). `exists` rejects listed items that the provider treats as gone (terminated
    instances, keys pending deletion). `name_of` gives the resource's name for the unmanaged check
    (name prefixes) and its address; `standalone` is False for sub-resources of another resource
    (bucket versioning, policy attachments), which carry no ownership marker of their own.
    `plan_ignored` names attributes that plan-JSON drift (which compares every attribute) skips:
    computed mirrors of what a dedicated resource type manages and is compared through.
    """

    type: str                              # Terraform type, e.g. "aws_s3_bucket"
    service: str                           # boto3 service name
    listing: Listing
    id_field: str | Extract                # the live item's field holding Terraform's `id`
    attributes: tuple[Attr, ...]
    details: tuple[Detail, ...] = ()
    joins: tuple[Join, ...] = ()
    state_id: Callable[[Mapping[str, Any]], str | None] = _state_id
    exists: Callable[[Mapping[str, Any]], bool] = _always
    name_of: Extract | None = None
    standalone: bool = True
    plan_ignored: tuple[str, ...] = ()     # attributes plan-JSON drift skips (compared via other resources)

    def live_id(self, item: Mapping[str, Any]) -> str:
        return str(_field(self.id_field, item))

    def live_name(self, item: Mapping[str, Any]) -> str:
        """The resource's name (its id when it has none)."""
        name = self.name_of(item) if self.name_of is not None else None
        return str(name) if name else self.live_id(item)

    def live_attributes(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """The compared attributes of a live item (details already merged), normalised."""
        return {attr.name: attr.live_value(item) for attr in self.attributes}

    @property
    def tags_attribute(self) -> Attr | None:
        """The attribute compared as tags (`tags_all`), if the type has tags."""
        return next((a for a in self.attributes if a.compare == "tags"), None)

    @property
    def calls(self) -> tuple[tuple[str, str], ...]:
        """Every (boto3 service, operation) the type's reads use."""
        names = [(self.listing.service or self.service, self.listing.operation),
                 *((j.listing.service or self.service, j.listing.operation) for j in self.joins),
                 *((self.service, d.operation) for d in self.details)]
        return tuple(dict.fromkeys(names))


def _field(source: str | Extract, item: Mapping[str, Any]) -> Any:
    return source(item) if callable(source) else item[source]
