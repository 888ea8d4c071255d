"""Tags in bulk: one paginated Resource Groups Tagging API `GetResources` per region serves the tags of
every tagged SQS queue, SNS topic, KMS key and DynamoDB table, instead of one tag call per resource.

The four types share the call (same parameters). A resource that was never tagged is absent from the
answer and reads as having no tags. Needs `tag:GetResources` (part of AWS's ReadOnlyAccess); the API
is eventually consistent with the services' own tag calls, so a tag changed seconds before a check
may read as its old value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from harness.inventory.normalise import tags_from_list
from harness.inventory.spec import Attr, Extract, Join, Listing

KEY = "TaggingTags"
TAGGED = Listing("get_resources", "ResourceTagMappingList", service="resourcegroupstaggingapi",
                 params={"ResourceTypeFilters": ["sqs", "sns", "kms", "dynamodb:table"], "ResourcesPerPage": 100})


def tags_join(arn_key: Callable[[str], str | None], item_key: Extract | None = None) -> Join:
    """Join the tagging API's answer to a type's items: `arn_key(arn)` must equal `item_key(item)`."""
    return Join(KEY, TAGGED, id_field=lambda mapping: arn_key(mapping["ResourceARN"]), item_key=item_key)


def _tags(item: Mapping[str, Any]) -> dict[str, str]:
    return tags_from_list((item.get(KEY) or {}).get("Tags"))


TAGS = Attr("tags_all", _tags, compare="tags")
