"""DynamoDB tables: `ListTables` and the tags once per region, then `DescribeTable` per table in a state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.inventory.normalise import canonical_set, empty_to_none, last_segment, sorted_strings
from harness.inventory.spec import Attr, Detail, Listing, ResourceType
from harness.inventory.types.tagging import TAGS, tags_join

TABLE_GONE = ("ResourceNotFoundException",)


def _key(table: Mapping[str, Any], key_type: str) -> str | None:
    return next((k["AttributeName"] for k in table.get("KeySchema") or () if k.get("KeyType") == key_type), None)


def table_attributes(values: Any) -> list[dict[str, str]]:
    """`attribute` blocks (a set of {name, type}) from the API's definitions or the state."""
    return canonical_set({"name": v.get("AttributeName", v.get("name")), "type": v.get("AttributeType", v.get("type"))}
                         for v in values or ())


def secondary_indexes(values: Any) -> list[dict[str, Any]]:
    """Global/local secondary indexes in the provider's form (a set), from the API or the state."""
    result = []
    for index in values or ():
        if "IndexName" in index:
            projection = index.get("Projection") or {}
            throughput = index.get("ProvisionedThroughput") or {}
            index = {"name": index["IndexName"], "hash_key": _key(index, "HASH"), "range_key": _key(index, "RANGE"),
                     "projection_type": projection.get("ProjectionType"),
                     "non_key_attributes": projection.get("NonKeyAttributes"),
                     "read_capacity": throughput.get("ReadCapacityUnits"),
                     "write_capacity": throughput.get("WriteCapacityUnits")}
        result.append({"name": index.get("name"), "hash_key": empty_to_none(index.get("hash_key")),
                       "range_key": empty_to_none(index.get("range_key")),
                       "projection_type": index.get("projection_type"),
                       "non_key_attributes": sorted_strings(index.get("non_key_attributes")),
                       "read_capacity": int(index.get("read_capacity") or 0),
                       "write_capacity": int(index.get("write_capacity") or 0)})
    return canonical_set(result)


def _table(item: Mapping[str, Any]) -> Mapping[str, Any]:
    return item.get("Table") or {}


def _throughput(item: Mapping[str, Any], field: str) -> int:
    return int((_table(item).get("ProvisionedThroughput") or {}).get(field) or 0)


DYNAMODB_TABLE = ResourceType(
    type="aws_dynamodb_table",
    service="dynamodb",
    listing=Listing("list_tables", "TableNames", shape=lambda names: [{"TableName": n} for n in names]),
    id_field="TableName",
    details=(
        Detail(key="Table", operation="describe_table", params=lambda t: {"TableName": t["TableName"]},
               extract=lambda response: response["Table"], missing_codes=TABLE_GONE),
    ),
    # Tags of every table in one call per region; joined by table name (the ARN ends with it).
    joins=(tags_join(lambda arn: last_segment(arn), lambda t: t["TableName"]),),
    attributes=(
        Attr("name", "TableName"),
        # No billing mode summary means a table that was always provisioned (the provider's default).
        Attr("billing_mode", lambda t: (_table(t).get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")),
        Attr("hash_key", lambda t: _key(_table(t), "HASH")),
        Attr("range_key", lambda t: _key(_table(t), "RANGE"), live=empty_to_none, state=empty_to_none),
        Attr("read_capacity", lambda t: _throughput(t, "ReadCapacityUnits"), state=lambda v: int(v or 0)),
        Attr("write_capacity", lambda t: _throughput(t, "WriteCapacityUnits"), state=lambda v: int(v or 0)),
        Attr("attribute", lambda t: _table(t).get("AttributeDefinitions"), live=table_attributes,
             state=table_attributes, compare="set"),
        Attr("global_secondary_index", lambda t: _table(t).get("GlobalSecondaryIndexes"), live=secondary_indexes,
             state=secondary_indexes, compare="set"),
        Attr("local_secondary_index", lambda t: _table(t).get("LocalSecondaryIndexes"), live=secondary_indexes,
             state=secondary_indexes, compare="set"),
        Attr("stream_enabled", lambda t: (_table(t).get("StreamSpecification") or {}).get("StreamEnabled", False),
             live=bool, state=bool),
        Attr("stream_view_type", lambda t: (_table(t).get("StreamSpecification") or {}).get("StreamViewType"),
             live=empty_to_none, state=empty_to_none),
        Attr("table_class", lambda t: (_table(t).get("TableClassSummary") or {}).get("TableClass", "STANDARD"),
             state=lambda v: v or "STANDARD"),
        Attr("deletion_protection_enabled", lambda t: _table(t).get("DeletionProtectionEnabled", False),
             live=bool, state=bool),
        TAGS,
    ),
    name_of=lambda t: t["TableName"],
)

TYPES = (DYNAMODB_TABLE,)
