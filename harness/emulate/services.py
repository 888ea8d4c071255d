"""DynamoDB tables, SQS queues, SNS topics, KMS keys and secrets: creation as provider v5 does it, and
out-of-band changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.emulate.common import Creator, Mutation, Target, changes, split_tags, tag_list, tagged
from harness.emulate.iam import policy_text

# -- DynamoDB ------------------------------------------------------------------------------------------


def _key_schema(hash_key: str, range_key: str | None) -> list[dict[str, str]]:
    return [{"AttributeName": hash_key, "KeyType": "HASH"},
            *([{"AttributeName": range_key, "KeyType": "RANGE"}] if range_key else [])]


def create_table(target: Target, args: Mapping[str, Any]) -> dict[str, Any]:
    tags, tags_all = split_tags(target, args)
    billing = args.get("billing_mode", "PROVISIONED")
    provisioned = billing == "PROVISIONED"
    read, write = (int(args.get("read_capacity", 1)), int(args.get("write_capacity", 1))) if provisioned else (0, 0)
    attributes = [{"name": a["name"], "type": a["type"]} for a in args["attribute"]]
    indexes = []
    for index in args.get("global_secondary_index") or ():
        indexes.append({"name": index["name"], "hash_key": index["hash_key"], "range_key": index.get("range_key", ""),
                        "projection_type": index.get("projection_type", "ALL"),
                        "non_key_attributes": list(index.get("non_key_attributes") or ()),
                        "read_capacity": int(index.get("read_capacity", read)) if provisioned else 0,
                        "write_capacity": int(index.get("write_capacity", write)) if provisioned else 0})
    options: dict[str, Any] = {"BillingMode": billing}
    if provisioned:
        options["ProvisionedThroughput"] = {"ReadCapacityUnits": read, "WriteCapacityUnits": write}
    if indexes:
        options["GlobalSecondaryIndexes"] = [{
            "IndexName": i["name"], "KeySchema": _key_schema(i["hash_key"], i["range_key"]),
            "Projection": {"ProjectionType": i["projection_type"],
                           **({"NonKeyAttributes": i["non_key_attributes"]} if i["non_key_attributes"] else {})},
            **({"ProvisionedThroughput": {"ReadCapacityUnits": i["read_capacity"],
                                          "WriteCapacityUnits": i["write_capacity"]}} if provisioned else {}),
        } for i in indexes]
    if args.get("deletion_protection_enabled"):
        options["DeletionProtectionEnabled"] = True
    if tags_all:
        options["Tags"] = tag_list(tags_all)
    table = target.client("dynamodb").create_table(
        TableName=args["name"], KeySchema=_key_schema(args["hash_key"], args.get("range_key")),
        AttributeDefinitions=[{"AttributeName": a["name"], "AttributeType": a["type"]} for a in attributes],
        **options)["TableDescription"]
    return tagged({
        "id": args["name"], "arn": table["TableArn"], "name": args["name"], "billing_mode": billing,
        "hash_key": args["hash_key"], "range_key": args.get("range_key"), "read_capacity": read,
        "write_capacity": write, "attribute": attributes, "global_secondary_index": indexes,
        "local_secondary_index": [], "stream_enabled": False, "stream_view_type": "", "stream_arn": "",
        "stream_label": "", "table_class": "STANDARD",
        "deletion_protection_enabled": bool(args.get("deletion_protection_enabled", False)),
        "point_in_time_recovery": [{"enabled": False}], "ttl": [{"attribute_name": "", "enabled": False}],
        "server_side_encryption": [], "replica": [], "restore_date_time": None, "restore_source_name": None,
        "restore_to_latest_time": None, "import_table": [], "timeouts": None,
    }, tags, tags_all)


def change_table(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    attribute, value = changes(params)
    dynamodb = target.client("dynamodb")
    if attribute == "billing_mode":
        extra = {"ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}} \
            if value == "PROVISIONED" else {}
        dynamodb.update_table(TableName=attrs["id"], BillingMode=str(value), **extra)
    elif attribute == "deletion_protection_enabled":
        dynamodb.update_table(TableName=attrs["id"], DeletionProtectionEnabled=bool(value))
    else:
        raise ValueError(f"cannot change {attribute!r} of a table (supported: billing_mode, "
                         "deletion_protection_enabled)")


# -- SQS -------------------------------------------------------------------------------------------------

# Terraform attribute -> (SQS attribute, the provider's schema default, which it always sends)
QUEUE_ATTRIBUTES: dict[str, tuple[str, Any]] = {
    "visibility_timeout_seconds": ("VisibilityTimeout", 30),
    "message_retention_seconds": ("MessageRetentionPeriod", 345600),
    "max_message_size": ("MaximumMessageSize", 262144),
    "delay_seconds": ("DelaySeconds", 0),
    "receive_wait_time_seconds": ("ReceiveMessageWaitTimeSeconds", 0),
}


def create_queue(target: Target, args: Mapping[str, Any]) -> dict[str, Any]:
    tags, tags_all = split_tags(target, args)
    fifo = bool(args.get("fifo_queue", False))
    name = args["name"]
    values = {attr: int(args.get(attr, default)) for attr, (_, default) in QUEUE_ATTRIBUTES.items()}
    sqs_attributes = {QUEUE_ATTRIBUTES[attr][0]: str(value) for attr, value in values.items()}
    policy = policy_text(args["policy"]) if args.get("policy") else ""
    redrive = policy_text(args["redrive_policy"]) if args.get("redrive_policy") else ""
    if fifo:
        sqs_attributes["FifoQueue"] = "true"
        sqs_attributes["ContentBasedDeduplication"] = str(bool(args.get("content_based_deduplication"))).lower()
    if policy:
        sqs_attributes["Policy"] = policy
    if redrive:
        sqs_attributes["RedrivePolicy"] = redrive
    if args.get("kms_master_key_id"):
        sqs_attributes["KmsMasterKeyId"] = args["kms_master_key_id"]
    sqs = target.client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=sqs_attributes, **({"tags": dict(tags_all)} if tags_all else {}))[
        "QueueUrl"]
    return tagged({
        "id": url, "url": url, "arn": target.arn("sqs", name), "name": name, "name_prefix": "", **values,
        "fifo_queue": fifo, "content_based_deduplication": bool(args.get("content_based_deduplication", False)),
        "deduplication_scope": "", "fifo_throughput_limit": "", "kms_master_key_id": args.get("kms_master_key_id", ""),
        "kms_data_key_reuse_period_seconds": 300, "policy": policy, "redrive_policy": redrive,
        "redrive_allow_policy": "",
        # New queues get SQS-managed encryption unless a KMS key is given (AWS default since 2022).
        "sqs_managed_sse_enabled": not args.get("kms_master_key_id"),
    }, tags, tags_all)


def change_queue(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    attribute, value = changes(params)
    if attribute not in QUEUE_ATTRIBUTES:
        raise ValueError(f"cannot change {attribute!r} of a queue (supported: {', '.join(QUEUE_ATTRIBUTES)})")
    sqs = target.client("sqs")
    changed = {QUEUE_ATTRIBUTES[attribute][0]: str(value)}
    # moto drops a queue's policy on any SetQueueAttributes call that does not repeat it; AWS keeps it.
    # Repeating the current policy makes the change exactly the one asked for, on both.
    policy = sqs.get_queue_attributes(QueueUrl=attrs["id"], AttributeNames=["Policy"]).get("Attributes", {})
    sqs.set_queue_attributes(QueueUrl=attrs["id"], Attributes={**policy, **changed})


# -- SNS -------------------------------------------------------------------------------------------------

def create_topic(target: Target, args: Mapping[str, Any]) -> dict[str, Any]:
    tags, tags_all = split_tags(target, args)
    attributes = {}
    if args.get("display_name"):
        attributes["DisplayName"] = args["display_name"]
    if args.get("kms_master_key_id"):
        attributes["KmsMasterKeyId"] = args["kms_master_key_id"]
    sns = target.client("sns")
    arn = sns.create_topic(Name=args["name"], Attributes=attributes,
                           **({"Tags": tag_list(tags_all)} if tags_all else {}))["TopicArn"]
    # Without a configured policy the provider stores the default policy AWS attached (it reads it back).
    policy = policy_text(args["policy"]) if args.get("policy") else \
        sns.get_topic_attributes(TopicArn=arn)["Attributes"].get("Policy", "")
    if args.get("policy"):
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=policy)
    return tagged({
        "id": arn, "arn": arn, "name": args["name"], "name_prefix": "", "display_name": args.get("display_name", ""),
        "policy": policy, "delivery_policy": "", "kms_master_key_id": args.get("kms_master_key_id", ""),
        "fifo_topic": False, "content_based_deduplication": False, "signature_version": 0, "tracing_config": "",
        "owner": target.account_id, "archive_policy": "", "beginning_archive_time": "",
        **{f"{kind}_{event}": "" for kind in ("application", "firehose", "http", "lambda", "sqs")
           for event in ("failure_feedback_role_arn", "success_feedback_role_arn")},
        **{f"{kind}_success_feedback_sample_rate": 0 for kind in ("application", "firehose", "http", "lambda", "sqs")},
    }, tags, tags_all)


def change_topic(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    attribute, value = changes(params)
    names = {"display_name": "DisplayName", "policy": "Policy", "delivery_policy": "DeliveryPolicy"}
    if attribute not in names:
        raise ValueError(f"cannot change {attribute!r} of a topic (supported: {', '.join(names)})")
    text = value if attribute == "display_name" else policy_text(value)
    target.client("sns").set_topic_attributes(TopicArn=attrs["id"], AttributeName=names[attribute],
                                              AttributeValue=text)


# -- KMS -------------------------------------------------------------------------------------------------

def create_key(target: Target, args: Mapping[str, Any]) -> dict[str, Any]:
    tags, tags_all = split_tags(target, args)
    kms = target.client("kms")
    options: dict[str, Any] = {"KeyUsage": args.get("key_usage", "ENCRYPT_DECRYPT"),
                               "KeySpec": args.get("customer_master_key_spec", "SYMMETRIC_DEFAULT"),
                               "MultiRegion": bool(args.get("multi_region", False))}
    if args.get("description"):
        options["Description"] = args["description"]
    if args.get("policy"):
        options["Policy"] = policy_text(args["policy"])
    if tags_all:
        options["Tags"] = tag_list(tags_all, "TagKey", "TagValue")
    key = kms.create_key(**options)["KeyMetadata"]
    rotation = bool(args.get("enable_key_rotation", False))
    if rotation:
        kms.enable_key_rotation(KeyId=key["KeyId"])
    # Without a configured policy the provider stores the default key policy AWS attached (it reads it back).
    policy = options.get("Policy") or kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]
    return tagged({
        "id": key["KeyId"], "key_id": key["KeyId"], "arn": key["Arn"], "description": args.get("description", ""),
        "key_usage": options["KeyUsage"], "customer_master_key_spec": options["KeySpec"], "is_enabled": True,
        "enable_key_rotation": rotation, "rotation_period_in_days": 365 if rotation else 0,
        "multi_region": options["MultiRegion"], "policy": policy,
        "deletion_window_in_days": args.get("deletion_window_in_days"), "bypass_policy_lockout_safety_check": False,
        "custom_key_store_id": "", "xks_key_id": "", "timeouts": None,
    }, tags, tags_all)


def change_key(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    attribute, value = changes(params)
    kms = target.client("kms")
    if attribute == "description":
        kms.update_key_description(KeyId=attrs["id"], Description=str(value))
    elif attribute == "is_enabled":
        (kms.enable_key if value else kms.disable_key)(KeyId=attrs["id"])
    elif attribute == "enable_key_rotation":
        (kms.enable_key_rotation if value else kms.disable_key_rotation)(KeyId=attrs["id"])
    else:
        raise ValueError(f"cannot change {attribute!r} of a key (supported: description, is_enabled, "
                         "enable_key_rotation)")


def schedule_key_deletion(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    target.client("kms").schedule_key_deletion(KeyId=attrs["id"], PendingWindowInDays=7)


# -- Secrets Manager ------------------------------------------------------------------------------------

def create_secret(target: Target, args: Mapping[str, Any]) -> dict[str, Any]:
    tags, tags_all = split_tags(target, args)
    options: dict[str, Any] = {}
    if args.get("description"):
        options["Description"] = args["description"]
    if args.get("kms_key_id"):
        options["KmsKeyId"] = args["kms_key_id"]
    if tags_all:
        options["Tags"] = tag_list(tags_all)
    arn = target.client("secretsmanager").create_secret(Name=args["name"], **options)["ARN"]
    return tagged({
        "id": arn, "arn": arn, "name": args["name"], "name_prefix": "", "description": args.get("description", ""),
        "kms_key_id": args.get("kms_key_id", ""), "policy": "", "recovery_window_in_days": 30,
        "force_overwrite_replica_secret": False, "replica": [],
    }, tags, tags_all)


def change_secret(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    attribute, value = changes(params)
    if attribute != "description":
        raise ValueError(f"cannot change {attribute!r} of a secret (supported: description)")
    target.client("secretsmanager").update_secret(SecretId=attrs["id"], Description=str(value))


# -- tags and deletion, per service ---------------------------------------------------------------------

def _tags_by(service: str, tag: str, untag: str, ident: str, param: str, *, key: str = "Key", value: str = "Value",
             as_map: bool = False, untag_param: str = "TagKeys") -> tuple[Mutation, Mutation]:
    def set_tags(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
        tags = dict(params["tags"]) if as_map else tag_list(params["tags"], key, value)
        getattr(target.client(service), tag)(**{param: attrs[ident]}, Tags=tags)

    def remove_tag(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
        getattr(target.client(service), untag)(**{param: attrs[ident]}, **{untag_param: [params["key"]]})

    return set_tags, remove_tag


_TAGGERS = {
    "aws_dynamodb_table": _tags_by("dynamodb", "tag_resource", "untag_resource", "arn", "ResourceArn"),
    "aws_sqs_queue": _tags_by("sqs", "tag_queue", "untag_queue", "id", "QueueUrl", as_map=True),
    "aws_sns_topic": _tags_by("sns", "tag_resource", "untag_resource", "arn", "ResourceArn"),
    "aws_kms_key": _tags_by("kms", "tag_resource", "untag_resource", "id", "KeyId", key="TagKey", value="TagValue"),
    "aws_secretsmanager_secret": _tags_by("secretsmanager", "tag_resource", "untag_resource", "id", "SecretId"),
}


def _delete(service: str, operation: str, param: str, ident: str = "id", **extra: Any) -> Mutation:
    def delete(target: Target, attrs: Mapping[str, Any], params: Mapping[str, Any]) -> None:
        getattr(target.client(service), operation)(**{param: attrs[ident]}, **extra)
    return delete


CREATORS: dict[str, Creator] = {
    "aws_dynamodb_table": create_table,
    "aws_sqs_queue": create_queue,
    "aws_sns_topic": create_topic,
    "aws_kms_key": create_key,
    "aws_secretsmanager_secret": create_secret,
}

MUTATIONS: dict[tuple[str, str], Mutation] = {
    **{(op, t): f for t, pair in _TAGGERS.items() for op, f in zip(("set_tags", "remove_tag"), pair, strict=True)},
    ("change_attribute", "aws_dynamodb_table"): change_table,
    ("change_attribute", "aws_sqs_queue"): change_queue,
    ("change_attribute", "aws_sns_topic"): change_topic,
    ("change_attribute", "aws_kms_key"): change_key,
    ("change_attribute", "aws_secretsmanager_secret"): change_secret,
    ("delete_resource", "aws_dynamodb_table"): _delete("dynamodb", "delete_table", "TableName"),
    ("delete_resource", "aws_sqs_queue"): _delete("sqs", "delete_queue", "QueueUrl"),
    ("delete_resource", "aws_sns_topic"): _delete("sns", "delete_topic", "TopicArn"),
    ("delete_resource", "aws_kms_key"): schedule_key_deletion,
    ("delete_resource", "aws_secretsmanager_secret"): _delete("secretsmanager", "delete_secret", "SecretId",
                                                              RecoveryWindowInDays=7),
}
