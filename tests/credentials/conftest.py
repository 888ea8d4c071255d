"""Fixtures for the credential tests: a seeded moto account with certificates, keys, secrets, KMS keys."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from harness.stacks import load
from tests.credentials.helpers import (
    Cert,
    clients,
    create_bucket,
    create_rotation_function,
    make_cert,
    write_repo,
    write_state,
)

EXPIRY_DAYS = {"expired": -2, "five": 5, "forty": 40, "long": 400}


@dataclass
class Seeded:
    """What `seeded` created, by label."""

    endpoint: str
    certs: dict[str, Cert] = field(default_factory=dict)
    acm: dict[str, str] = field(default_factory=dict)          # label -> certificate ARN
    server_certs: dict[str, str] = field(default_factory=dict) # label -> server certificate name
    keys: dict[str, str] = field(default_factory=dict)         # user -> access key id
    secrets: dict[str, str] = field(default_factory=dict)      # label -> secret ARN
    kms: dict[str, str] = field(default_factory=dict)          # label -> key id
    canaries: list[str] = field(default_factory=list)          # secret values that must never appear


@pytest.fixture
def aws(moto):
    """A boto3 client factory on the reset moto server."""
    return clients(moto)


@pytest.fixture
def seeded(moto, aws) -> Seeded:
    """Certificates expiring in -2/5/40/400 days in IAM (5/40/400 in ACM), users with keys, secrets, KMS keys."""
    seeded = Seeded(moto)
    create_bucket(aws("s3"))
    for label, days in EXPIRY_DAYS.items():
        cert = make_cert(days, cn=f"{label}.example.com", sans=(f"www.{label}.example.com",))
        seeded.certs[label] = cert
        seeded.canaries.append(cert.key_pem.splitlines()[1])
        if days > 0:   # ACM refuses to import an expired certificate (see test_inventory for that case)
            seeded.acm[label] = aws("acm").import_certificate(
                Certificate=cert.cert_pem.encode(), PrivateKey=cert.key_pem.encode())["CertificateArn"]
        name = f"web-{label}"
        aws("iam").upload_server_certificate(ServerCertificateName=name, CertificateBody=cert.cert_pem,
                                             PrivateKey=cert.key_pem)
        seeded.server_certs[label] = name
    for user in ("alice", "bob"):
        aws("iam").create_user(UserName=user)
        key = aws("iam").create_access_key(UserName=user)["AccessKey"]
        seeded.keys[user] = key["AccessKeyId"]
        seeded.canaries.append(key["SecretAccessKey"])
    sm = aws("secretsmanager")
    plain_value, rotated_value = "canary-plain-7f3a9c2e41", "canary-rotated-b81d55e0c9"
    seeded.canaries += [plain_value, rotated_value]
    seeded.secrets["plain"] = sm.create_secret(Name="app/plain", SecretString=plain_value)["ARN"]
    seeded.secrets["rotated"] = sm.create_secret(Name="app/rotated", SecretString=rotated_value)["ARN"]
    function = create_rotation_function(moto)
    sm.rotate_secret(SecretId=seeded.secrets["rotated"], RotationLambdaARN=function,
                     RotationRules={"AutomaticallyAfterDays": 30})
    kms = aws("kms")
    seeded.kms["rotating"] = kms.create_key(Description="rotating")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=seeded.kms["rotating"])
    seeded.kms["static"] = kms.create_key(Description="static")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/static", TargetKeyId=seeded.kms["static"])
    return seeded


CONFIG = """\
profiles:
  prod:
    credentials:
      acm_certificate: {warn_days: 30, critical_days: 7}
      iam_server_certificate: {warn_days: 30, critical_days: 7}
      iam_access_key: {max_age_days: 90, warn_days: 14, sink: {type: secretsmanager, name: "iam/{user}/access-key"}}
      secretsmanager_secret: {max_age_days: 90, require_rotation: true}
  dev:
    credentials:
      acm_certificate: {warn_days: 10, critical_days: 3}
"""


@pytest.fixture
def repo(seeded, aws, tmp_path):
    """An Atmos repo: certs and iam in acme-prod (prod), web in acme-dev (dev), states in the backend."""
    root = tmp_path / "repo"
    root.mkdir()
    write_repo(root, {"prod": ("prod", ["certs", "iam"]), "dev": ("dev", ["web"])}, extra_config=CONFIG)
    stack_set = load(root)
    by_id = {i.id: i for i in stack_set}
    s3 = aws("s3")
    write_state(s3, by_id["certs@acme-prod"], [
        ("aws_acm_certificate", "five", {"id": seeded.acm["five"], "arn": seeded.acm["five"]}),
        ("aws_iam_server_certificate", "expired", {"name": "web-expired"}),
        ("aws_secretsmanager_secret", "rotated", {"id": seeded.secrets["rotated"], "arn": seeded.secrets["rotated"]})])
    write_state(s3, by_id["iam@acme-prod"], [("aws_iam_access_key", "alice", {"id": seeded.keys["alice"]})])
    write_state(s3, by_id["web@acme-dev"], [
        ("aws_acm_certificate", "forty", {"id": seeded.acm["forty"], "arn": seeded.acm["forty"]})])
    return root
