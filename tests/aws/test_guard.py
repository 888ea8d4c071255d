"""The read-only guard: mutations refused, scoped write permissions, every write logged."""

from __future__ import annotations

import logging
import threading

import pytest

from harness.aws.guard import identifiers, is_read
from harness.errors import HarnessError, ReadOnlyViolation
from harness.log import Redactor


@pytest.mark.parametrize(("service", "operation", "read"), [
    ("ec2", "DescribeInstances", True), ("s3", "ListBuckets", True), ("s3", "GetBucketPolicy", True),
    ("s3", "HeadObject", True), ("dynamodb", "BatchGetItem", True), ("dynamodb", "Query", True),
    ("dynamodb", "Scan", True), ("cloudtrail", "LookupEvents", True), ("sts", "AssumeRole", True),
    ("sts", "GetCallerIdentity", True),
    ("s3", "PutObject", False), ("s3", "DeleteBucket", False), ("ec2", "RunInstances", False),
    ("dynamodb", "PutItem", False), ("dynamodb", "BatchWriteItem", False), ("iam", "CreateRole", False),
    ("iam", "AttachRolePolicy", False), ("sqs", "SendMessage", False), ("kms", "ScheduleKeyDeletion", False),
    ("sts", "AssumeRoleWithWebIdentity", False), ("iam", "AssumeRole", False),
    ("s3", "Listen", False), ("x", "Getaway", False),
])
def test_read_operations(service, operation, read):
    assert is_read(service, operation) is read


def test_mutations_are_refused_and_never_sent(make_aws, raw):
    aws = make_aws()
    sqs = aws.client("sqs")
    with pytest.raises(ReadOnlyViolation) as caught:
        sqs.create_queue(QueueName="forbidden")
    assert isinstance(caught.value, HarnessError)
    assert "sqs.CreateQueue" in str(caught.value) and "QueueName=forbidden" in str(caught.value)
    assert "read-only" in str(caught.value)
    assert raw("sqs").list_queues().get("QueueUrls", []) == []
    assert aws.meter.total == 0 and aws.budget.used == 0


def test_scoped_permission_allows_and_logs_writes(make_aws, raw, caplog):
    aws = make_aws()
    sqs = aws.client("sqs")
    with caplog.at_level(logging.WARNING, logger="harness.aws.guard"), \
            aws.pool.allow_writes("demo provisioning"):
        sqs.create_queue(QueueName="allowed")
    assert [u.rsplit("/", 1)[1] for u in raw("sqs").list_queues()["QueueUrls"]] == ["allowed"]
    [record] = [r for r in caplog.records if r.name == "harness.aws.guard"]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "sqs.CreateQueue" in message and "QueueName=allowed" in message and "demo provisioning" in message
    with pytest.raises(ReadOnlyViolation):        # the permission ended with the block
        sqs.create_queue(QueueName="after")


def test_permission_does_not_leak_to_other_threads(make_aws):
    aws = make_aws()
    sqs = aws.client("sqs")
    errors: list[BaseException] = []

    def other_thread() -> None:
        try:
            sqs.create_queue(QueueName="from-another-thread")
        except ReadOnlyViolation as exc:
            errors.append(exc)

    with aws.pool.allow_writes("this thread only"):
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert len(errors) == 1


def test_lock_table_exception_is_narrow(make_aws, raw):
    raw("dynamodb").create_table(TableName="tf-locks",
                                 KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
                                 AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
                                 BillingMode="PAY_PER_REQUEST")
    aws = make_aws()
    ddb = aws.client("dynamodb")
    item = {"LockID": {"S": "tf-state/vpc/terraform.tfstate"}, "Info": {"S": "{}"}}
    with aws.pool.allow_lock_writes("tf-locks"):
        ddb.put_item(TableName="tf-locks", Item=item)
        with pytest.raises(ReadOnlyViolation):        # another table
            ddb.put_item(TableName="other", Item=item)
        with pytest.raises(ReadOnlyViolation):        # another operation on the lock table
            ddb.delete_table(TableName="tf-locks")
        ddb.delete_item(TableName="tf-locks", Key={"LockID": item["LockID"]})
    with pytest.raises(ReadOnlyViolation):
        ddb.put_item(TableName="tf-locks", Item=item)
    assert raw("dynamodb").scan(TableName="tf-locks")["Count"] == 0
    assert aws.meter.count("dynamodb.PutItem") == 1 and aws.meter.count("dynamodb.DeleteItem") == 1


def test_lock_permission_refuses_the_state_digest_item(make_aws, raw):
    from harness.aws.guard import DIGEST_SUFFIX
    from harness.state.layout import DIGEST_SUFFIX as STATE_DIGEST_SUFFIX

    assert DIGEST_SUFFIX == STATE_DIGEST_SUFFIX
    raw("dynamodb").create_table(TableName="tf-locks",
                                 KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
                                 AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
                                 BillingMode="PAY_PER_REQUEST")
    digest = {"LockID": {"S": "tf-state/vpc/terraform.tfstate-md5"}}
    raw("dynamodb").put_item(TableName="tf-locks", Item={**digest, "Digest": {"S": "0" * 32}})
    aws = make_aws()
    ddb = aws.client("dynamodb")
    with aws.pool.allow_lock_writes("tf-locks"):
        with pytest.raises(ReadOnlyViolation, match=r"dynamodb\.PutItem"):
            ddb.put_item(TableName="tf-locks", Item={**digest, "Digest": {"S": "f" * 32}})
        with pytest.raises(ReadOnlyViolation, match=r"dynamodb\.DeleteItem"):
            ddb.delete_item(TableName="tf-locks", Key=digest)
        with pytest.raises(ReadOnlyViolation):          # no LockID: not recognisably a lock item
            ddb.put_item(TableName="tf-locks", Item={"Other": {"S": "x"}})
    [item] = raw("dynamodb").scan(TableName="tf-locks")["Items"]
    assert item["Digest"]["S"] == "0" * 32


def test_operation_list_narrows_a_permission(make_aws):
    aws = make_aws()
    sqs = aws.client("sqs")
    with aws.pool.allow_writes("queues only", operations={"sqs.CreateQueue"}):
        sqs.create_queue(QueueName="ok")
        with pytest.raises(ReadOnlyViolation):
            sqs.tag_queue(QueueUrl=sqs.get_queue_url(QueueName="ok")["QueueUrl"], Tags={"a": "b"})


def test_write_access_run_logs_every_write(make_aws, raw, caplog):
    redactor = Redactor(["hunter2-secret-value"])
    aws = make_aws(read_only=False, redactor=redactor)
    with caplog.at_level(logging.WARNING, logger="harness.aws.guard"):
        aws.client("sqs").create_queue(QueueName="hunter2-secret-value")
    [record] = [r for r in caplog.records if r.name == "harness.aws.guard"]
    assert "sqs.CreateQueue" in record.getMessage()
    assert "hunter2-secret-value" not in record.getMessage()       # identifiers are redacted
    assert len(raw("sqs").list_queues()["QueueUrls"]) == 1


def test_permission_needs_a_reason(make_aws):
    with pytest.raises(ValueError, match="reason"), make_aws().pool.allow_writes("  "):
        pass


def test_identifiers_pick_names_ids_and_keys():
    params = {"TableName": "t", "Key": {"LockID": {"S": "x"}}, "Item": {"big": "body"},
              "InstanceIds": ["i-1"], "Body": "data", "QueueUrl": "http://q"}
    assert identifiers(params) == {"TableName": "t", "Key": {"LockID": {"S": "x"}}, "InstanceIds": ["i-1"],
                                   "QueueUrl": "http://q"}


def test_refusals_and_write_logs_never_carry_secret_or_body_parameters():
    from harness.aws.guard import identifiers

    pem = b"-----BEGIN PRIVATE KEY-----\nMIGHAgEAcanary\n-----END PRIVATE KEY-----\n"
    shown = identifiers({"CertificateArn": "arn:aws:acm:us-east-1:1:certificate/x", "PrivateKey": pem,
                         "Certificate": pem, "SecretId": "app/db", "SecretString": "hunter2-canary",
                         "Key": {"LockID": {"S": "bucket/key"}}, "Body": b"state"})
    assert shown == {"CertificateArn": "arn:aws:acm:us-east-1:1:certificate/x", "SecretId": "app/db",
                     "Key": {"LockID": {"S": "bucket/key"}}}
