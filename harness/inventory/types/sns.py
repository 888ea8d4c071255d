"""SNS topics: `ListTopics` and the tags once per region, then the attributes of each topic in a state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.inventory.normalise import empty_to_none, json_document, last_segment, to_bool
from harness.inventory.spec import Attr, Detail, Listing, ResourceType
from harness.inventory.types.tagging import TAGS, tags_join

TOPIC_GONE = ("NotFound", "NotFoundException")


def _attribute(name: str) -> Any:
    return lambda t: (t.get("Attributes") or {}).get(name)


def _topic(item: Mapping[str, Any]) -> dict[str, str]:
    return {"TopicArn": item["TopicArn"]}


SNS_TOPIC = ResourceType(
    type="aws_sns_topic",
    service="sns",
    listing=Listing("list_topics", "Topics"),
    id_field="TopicArn",
    details=(
        Detail(key="Attributes", operation="get_topic_attributes", params=_topic,
               extract=lambda response: response.get("Attributes", {}), missing_codes=TOPIC_GONE),
    ),
    joins=(tags_join(lambda arn: arn),),
    attributes=(
        Attr("name", lambda t: last_segment(t["TopicArn"], ":")),
        Attr("display_name", _attribute("DisplayName"), live=empty_to_none, state=empty_to_none),
        Attr("kms_master_key_id", _attribute("KmsMasterKeyId"), live=empty_to_none, state=empty_to_none),
        Attr("fifo_topic", _attribute("FifoTopic"), live=to_bool, state=to_bool),
        Attr("content_based_deduplication", _attribute("ContentBasedDeduplication"), live=to_bool, state=to_bool),
        Attr("policy", _attribute("Policy"), live=json_document, state=json_document, compare="json"),
        Attr("delivery_policy", _attribute("DeliveryPolicy"), live=json_document, state=json_document,
             compare="json"),
        TAGS,
    ),
    name_of=lambda t: last_segment(t["TopicArn"], ":"),
)

TYPES = (SNS_TOPIC,)
