"""Every AWS write the state package makes, in one place, each conditional on what was read.

These are the only calls that change a backend: removing an abandoned lock (`locks clean --yes`) and
taking/releasing the harness's own lock (`hold_state_lock`). Each is conditional, so a lock that
changed hands since it was read is never removed. Keep new writes here, behind the same review.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

# What the S3 and DynamoDB APIs answer when a condition does not hold (or the thing is gone).
_CONDITION_FAILED = {"ConditionalCheckFailedException", "PreconditionFailed", "412"}
_GONE = {"NoSuchKey", "404", "NotFound"}


class LockChanged(Exception):
    """The lock is no longer exactly the one read: re-acquired, released or rewritten. Nothing was deleted."""


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def delete_lock_item(dynamodb: Any, table: str, item_id: str, expected_info: str) -> None:
    """Delete a DynamoDB lock item only if its `Info` is still exactly `expected_info`."""
    try:
        dynamodb.delete_item(TableName=table, Key={"LockID": {"S": item_id}},
                             ConditionExpression="#info = :info",
                             ExpressionAttributeNames={"#info": "Info"},
                             ExpressionAttributeValues={":info": {"S": expected_info}})
    except ClientError as exc:
        if _code(exc) in _CONDITION_FAILED:
            raise LockChanged(f"{table}/{item_id}: Info changed since it was read") from None
        raise


def delete_lockfile(s3: Any, bucket: str, key: str, expected_body: str, etag: str) -> None:
    """Delete a `.tflock` object only if it still holds `expected_body` under `etag`.

    Two guards: the object is read again and compared byte for byte just before the delete, and the
    delete itself carries `If-Match: <etag>`, which S3 (and moto) refuse with 412 when the object
    changed in between. Without versioning the ETag of a simple PUT is the MD5 of the body, and a
    re-acquired lock always has a new ID, so a new lock never matches the old ETag.
    """
    try:
        current = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if _code(exc) in _GONE:
            raise LockChanged(f"s3://{bucket}/{key}: released since it was read") from None
        raise
    body = current["Body"].read()
    if current.get("ETag") != etag or body != expected_body.encode("utf-8"):
        raise LockChanged(f"s3://{bucket}/{key}: lock file changed since it was read")
    try:
        s3.delete_object(Bucket=bucket, Key=key, IfMatch=etag)
    except ClientError as exc:
        if _code(exc) in _CONDITION_FAILED | _GONE:
            raise LockChanged(f"s3://{bucket}/{key}: lock file changed since it was read") from None
        raise


def put_lock_item(dynamodb: Any, table: str, item_id: str, info_json: str) -> bool:
    """Create a lock item the way Terraform does (`attribute_not_exists(LockID)`); False if one exists."""
    try:
        dynamodb.put_item(TableName=table, Item={"LockID": {"S": item_id}, "Info": {"S": info_json}},
                          ConditionExpression="attribute_not_exists(LockID)")
    except ClientError as exc:
        if _code(exc) in _CONDITION_FAILED:
            return False
        raise
    return True
