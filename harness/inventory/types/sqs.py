"""SQS queues: `ListQueues` and the tags once per region, then the attributes of each queue in a state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.inventory.normalise import empty_to_none, json_document, last_segment, to_bool, to_int
from harness.inventory.spec import Attr, Detail, Listing, ResourceType
from harness.inventory.types.tagging import TAGS, tags_join

QUEUE_GONE = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


def _attribute(name: str) -> Any:
    return lambda q: (q.get("Attributes") or {}).get(name)


def _number(attribute: str, name: str) -> Attr:
    return Attr(name, _attribute(attribute), live=to_int, state=to_int)


def _flag(attribute: str, name: str) -> Attr:
    return Attr(name, _attribute(attribute), live=to_bool, state=to_bool)


def _queue(item: Mapping[str, Any]) -> dict[str, str]:
    return {"QueueUrl": item["QueueUrl"]}


SQS_QUEUE = ResourceType(
    type="aws_sqs_queue",
    service="sqs",
    # Without MaxResults, ListQueues stops at 1,000 queues and gives no token to go on.
    listing=Listing("list_queues", "QueueUrls", params={"MaxResults": 1000},
                    shape=lambda urls: [{"QueueUrl": url} for url in urls]),
    id_field="QueueUrl",
    details=(
        Detail(key="Attributes", operation="get_queue_attributes",
               params=lambda q: {**_queue(q), "AttributeNames": ["All"]},
               extract=lambda response: response.get("Attributes", {}), missing_codes=QUEUE_GONE),
    ),
    # Tags of every queue in one call per region; joined by queue name (an ARN ends with it, a URL too).
    joins=(tags_join(lambda arn: last_segment(arn, ":"), lambda q: last_segment(q["QueueUrl"])),),
    attributes=(
        Attr("name", lambda q: last_segment(q["QueueUrl"])),
        _number("VisibilityTimeout", "visibility_timeout_seconds"),
        _number("MessageRetentionPeriod", "message_retention_seconds"),
        _number("MaximumMessageSize", "max_message_size"),
        _number("DelaySeconds", "delay_seconds"),
        _number("ReceiveMessageWaitTimeSeconds", "receive_wait_time_seconds"),
        _flag("FifoQueue", "fifo_queue"),
        _flag("ContentBasedDeduplication", "content_based_deduplication"),
        _flag("SqsManagedSseEnabled", "sqs_managed_sse_enabled"),
        Attr("kms_master_key_id", _attribute("KmsMasterKeyId"), live=empty_to_none, state=empty_to_none),
        Attr("policy", _attribute("Policy"), live=json_document, state=json_document, compare="json"),
        Attr("redrive_policy", _attribute("RedrivePolicy"), live=json_document, state=json_document,
             compare="json"),
        TAGS,
    ),
    name_of=lambda q: last_segment(q["QueueUrl"]),
)

TYPES = (SQS_QUEUE,)
