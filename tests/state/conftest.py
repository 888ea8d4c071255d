"""Fixtures for the state tests: a moto-backed client pool and an empty S3 backend (bucket + table)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from harness.aws.session import SessionPool
from harness.config import EnvironmentProfile, HarnessConfig
from tests.state.helpers import BUCKET, REGION, TABLE
from tests.tf import terraform_dirs  # noqa: F401  (a fixture, for the Terraform interop tests)


@dataclass
class Backend:
    """An empty, versioned state bucket and a lock table on the moto server.

    `s3` and `dynamodb` are plain clients for test setup; `pool` is the harness's guarded pool, the
    one the code under test uses (so a write without its explicit permission fails the test).
    """

    endpoint: str
    pool: SessionPool
    config: HarnessConfig
    s3: Any
    dynamodb: Any
    bucket: str = BUCKET
    table: str = TABLE


@pytest.fixture(scope="session")
def _pool(moto_server: str) -> SessionPool:
    """One client pool for the session: building boto3 clients is the slow part of a test's setup."""
    return SessionPool(HarnessConfig(aws_endpoint_url=moto_server, default_region=REGION))


@pytest.fixture
def backend(moto: str, tmp_path, _pool: SessionPool) -> Backend:
    config = HarnessConfig(aws_endpoint_url=moto, default_region=REGION, report_dir=tmp_path / "reports",
                           profiles={"prod": EnvironmentProfile(name="prod", lock_stale_after=6 * 3600),
                                     "dev": EnvironmentProfile(name="dev", lock_stale_after=3600)})
    pool = _pool
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=moto)
    dynamodb = boto3.client("dynamodb", region_name=REGION, endpoint_url=moto)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    dynamodb.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
    return Backend(moto, pool, config, s3, dynamodb)
