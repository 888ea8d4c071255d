"""Benchmark: `creds check` inventory + assessment over a few hundred credentials on embedded moto.

Prints the wall time of one cold check (every kind listed once per scope) and of the assessment
alone. Figures depend on the machine's load; moto answers locally, so they measure the harness
and moto, not AWS latency.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.aws.session import SessionPool
from harness.config import HarnessConfig
from harness.credentials.policy import CredentialPolicy
from harness.credentials.service import make_checker
from harness.credentials.status import assess
from harness.embedded import DUMMY_CREDENTIALS, embedded_moto
from harness.log import Redactor
from harness.stacks.model import StackSet
from harness.state.model import TerraformState
from tests.credentials.helpers import instance, make_cert

COUNTS = {"acm": 100, "server": 100, "users": 50, "secrets": 100, "kms": 30}


def seed(pool: SessionPool) -> None:
    cert = make_cert(200, cn="bench.example.com")
    for _ in range(COUNTS["acm"]):
        pool.client("acm").import_certificate(Certificate=cert.cert_pem.encode(), PrivateKey=cert.key_pem.encode())
    for i in range(COUNTS["server"]):
        pool.client("iam").upload_server_certificate(ServerCertificateName=f"bench-{i}",
                                                     CertificateBody=cert.cert_pem, PrivateKey=cert.key_pem)
    for i in range(COUNTS["users"]):
        pool.client("iam").create_user(UserName=f"user-{i}")
        pool.client("iam").create_access_key(UserName=f"user-{i}")
    for i in range(COUNTS["secrets"]):
        pool.client("secretsmanager").create_secret(Name=f"bench/{i}", SecretString="x" * 16)
    for _ in range(COUNTS["kms"]):
        pool.client("kms").create_key()


def main() -> None:
    os.environ.update(DUMMY_CREDENTIALS)
    with embedded_moto() as endpoint:
        config = HarnessConfig(aws_endpoint_url=endpoint, default_region="us-east-1")
        pool = SessionPool(config)
        with pool.allow_writes("benchmark seeding on the embedded moto server", level=logging.DEBUG):
            seed(pool)
        stack_set = StackSet(repo=".", instances=(instance("app", "bench"),))
        empty = TerraformState(version=4, terraform_version="1.11.0", serial=1, lineage="bench")
        checker = make_checker(config, pool, stack_set, Redactor(), state_of=lambda _: empty)
        started = time.perf_counter()
        report = checker.report()
        cold = time.perf_counter() - started
        started = time.perf_counter()
        for row in report.rows:
            assess(row.credential, CredentialPolicy(row.credential.kind, "bench"), checker.as_of)
        assessment = time.perf_counter() - started
    print(f"credentials listed: {len(report.rows)} (seeded {sum(COUNTS.values())}, one access key per user)")
    print(f"cold check (inventory of 2 scopes + assessment): {cold:.2f} s")
    print(f"assessment only: {assessment * 1000:.1f} ms for {len(report.rows)} credentials")


if __name__ == "__main__":
    main()
