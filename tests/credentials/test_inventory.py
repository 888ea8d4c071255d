"""The live inventory per kind on moto: expiry from ACM and from IAM certificate bodies, keys, secrets, KMS."""

from __future__ import annotations

import datetime as dt
import time

from harness.credentials.inventory import read_scope
from harness.credentials.model import Scope
from harness.credentials.policy import CredentialPolicy
from harness.credentials.status import assess
from tests.credentials.conftest import EXPIRY_DAYS
from tests.credentials.helpers import ACCOUNT, REGION, make_cert


def by_kind(inventory, kind):
    return {c.id: c for c in inventory.credentials if c.kind == kind}


def close(a: dt.datetime, b: dt.datetime) -> bool:
    return abs((a - b).total_seconds()) < 5


def test_regional_scope_lists_acm_secrets_and_kms(seeded, aws):
    inventory = read_scope(aws, Scope(None, REGION))
    assert inventory.errors == ()
    acm = by_kind(inventory, "acm_certificate")
    assert set(acm) == set(seeded.acm.values()) and len(acm) == 3
    for label, arn in seeded.acm.items():
        cert = acm[arn]
        assert close(cert.expires_at, seeded.certs[label].not_after)
        assert cert.name == f"{label}.example.com" and cert.account == ACCOUNT and cert.region == REGION
        assert cert.details["type"] == "IMPORTED" and cert.details["renewal_eligibility"] == "INELIGIBLE"
        assert cert.details["in_use_by"] == []
        assert cert.details["domains"] == [f"{label}.example.com", f"www.{label}.example.com"]
    secrets = {c.name: c for c in by_kind(inventory, "secretsmanager_secret").values()}
    assert secrets["app/plain"].rotation_enabled is False
    assert secrets["app/rotated"].rotation_enabled is True
    assert secrets["app/rotated"].details["rotation_function"].endswith(":function:rotate-db")
    assert secrets["app/rotated"].details["next_rotation_at"] is not None
    kms = by_kind(inventory, "kms_key")
    assert set(kms) == set(seeded.kms.values())       # customer keys only
    assert kms[seeded.kms["rotating"]].rotation_enabled is True
    assert kms[seeded.kms["static"]].rotation_enabled is False
    assert kms[seeded.kms["static"]].name == "alias/static"
    assert not by_kind(inventory, "iam_access_key")   # IAM lives in the global scope


def test_global_scope_lists_iam_server_certificates_by_name_with_body_expiry(seeded, aws):
    inventory = read_scope(aws, Scope(None, "global"))
    assert inventory.errors == ()
    certs = by_kind(inventory, "iam_server_certificate")
    assert set(certs) == set(seeded.server_certs.values())   # one shared ServerCertificateId in moto
    for label, name in seeded.server_certs.items():
        cert = certs[name]
        # moto's API says 2012 for every certificate; the body says the truth.
        assert cert.details["api_expiration"].startswith("2012-")
        assert close(cert.expires_at, seeded.certs[label].not_after), label
        assert cert.arn == f"arn:aws:iam::{ACCOUNT}:server-certificate/{name}"
        assert cert.region is None
    keys = by_kind(inventory, "iam_access_key")
    assert set(keys) == set(seeded.keys.values())
    alice = keys[seeded.keys["alice"]]
    assert alice.name == "alice" and alice.active and alice.details["status"] == "Active"
    assert alice.details["last_used_at"] is None and alice.account == ACCOUNT
    assert not by_kind(inventory, "acm_certificate")


def test_expiry_labels_cover_the_issue_cases():
    assert sorted(EXPIRY_DAYS.values()) == [-2, 5, 40, 400]


def test_acm_certificate_that_expired_after_import(moto, aws):
    """ACM refuses expired imports, so the certificate expires a moment after it was imported."""
    cert = make_cert(2 / 86400, cn="brief.example.com", sans=())
    arn = aws("acm").import_certificate(Certificate=cert.cert_pem.encode(),
                                        PrivateKey=cert.key_pem.encode())["CertificateArn"]
    time.sleep(max(0.0, (cert.not_after - dt.datetime.now(dt.UTC)).total_seconds()) + 0.2)
    [credential] = read_scope(aws, Scope(None, REGION), kinds=["acm_certificate"]).credentials
    assert credential.id == arn
    assessment = assess(credential, CredentialPolicy("acm_certificate", "default"), dt.datetime.now(dt.UTC))
    assert assessment.status == "expired" and assessment.days_left == -1


def test_listing_failure_is_an_error_not_an_empty_inventory(moto):
    from tests.credentials.helpers import clients

    broken = clients("http://127.0.0.1:9")   # nothing listens there
    inventory = read_scope(broken, Scope(None, REGION), kinds=["kms_key"])
    assert inventory.credentials == ()
    assert len(inventory.errors) == 1 and inventory.errors[0].kind == "kms_key"
