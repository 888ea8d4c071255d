"""The check: credentials linked to the instance whose state manages them, assessed by its profile."""

from __future__ import annotations

import datetime as dt

import pytest

from harness.aws.session import SessionPool
from harness.credentials.check import CredentialChecker
from harness.credentials.model import Scope
from harness.credentials.states import backend_state_reader
from harness.errors import StateError
from harness.log import Redactor
from tests.credentials.helpers import ACCOUNT, REGION, instance, make_config, stack_set, write_state

PROFILES = {
    "prod": {"acm_certificate": {"warn_days": 45, "critical_days": 10},
             "secretsmanager_secret": {"require_rotation": True},
             "kms_key": {"require_rotation": True}},
    "dev": {"acm_certificate": {"warn_days": 7, "critical_days": 2}},
}


@pytest.fixture
def world(seeded, aws, tmp_path):
    prod = instance("certs", "acme-prod", environment_type="prod")
    dev = instance("web", "acme-dev", environment_type="dev")
    s3 = aws("s3")
    write_state(s3, prod, [
        ("aws_acm_certificate", "five", {"id": seeded.acm["five"], "arn": seeded.acm["five"]}),
        ("aws_iam_server_certificate", "old", {"id": "ASCACKCEVSQ6C2EXAMPLE", "name": "web-expired",
                                               "arn": f"arn:aws:iam::{ACCOUNT}:server-certificate/web-expired"}),
        ("aws_iam_access_key", "alice", {"id": seeded.keys["alice"], "user": "alice"}),
        ("aws_secretsmanager_secret", "plain", {"id": seeded.secrets["plain"], "arn": seeded.secrets["plain"]}),
        ("aws_kms_key", "static", {"id": seeded.kms["static"], "key_id": seeded.kms["static"]}),
        ("aws_acm_certificate", "gone", {"id": "arn:aws:acm:us-east-1:123456789012:certificate/gone"}),
    ])
    write_state(s3, dev, [
        ("aws_acm_certificate", "forty", {"id": seeded.acm["forty"], "arn": seeded.acm["forty"]}),
        ("aws_iam_server_certificate", "forty", {"id": "ASCACKCEVSQ6C2EXAMPLE", "name": "web-forty"}),
        # A listener only uses a certificate: it does not manage it.
        ("aws_lb_listener", "https", {"id": "listener", "certificate_arn": seeded.acm["long"]}),
    ])
    config = make_config(seeded.endpoint, tmp_path, profiles=PROFILES)
    redactor = Redactor()
    checker = CredentialChecker(config, aws, stack_set(prod, dev),
                                backend_state_reader(SessionPool(config), redactor))
    return checker, prod, dev


def statuses(result):
    return {r.credential.id: (r.status, r.instance, r.policy["profile"]) for r in result.rows}


def test_instance_items_get_their_managed_credentials_under_their_profile(world, seeded):
    checker, prod, dev = world
    prod_rows = checker.for_instance(prod)
    assert statuses(prod_rows) == {
        seeded.acm["five"]: ("critical", prod.id, "prod"),          # 5 days left, critical at 10 in prod
        "web-expired": ("expired", prod.id, "prod"),
        seeded.keys["alice"]: ("ok", prod.id, "prod"),
        seeded.secrets["plain"]: ("rotation_disabled", prod.id, "prod"),
        seeded.kms["static"]: ("rotation_disabled", prod.id, "prod"),
    }
    assert prod_rows.notes == ("aws_acm_certificate.gone (acm_certificate) is in the state but was not found live",)
    dev_rows = checker.for_instance(dev)
    assert statuses(dev_rows) == {seeded.acm["forty"]: ("ok", dev.id, "dev"), "web-forty": ("ok", dev.id, "dev")}
    # sorted by days left
    assert [r.credential.id for r in prod_rows.rows][:2] == ["web-expired", seeded.acm["five"]]


def test_unmanaged_per_scope(world, seeded):
    checker, _, _ = world
    regional = checker.unmanaged(Scope(None, REGION))
    assert {r.credential.id for r in regional.rows} == {seeded.acm["long"], seeded.secrets["rotated"],
                                                        seeded.kms["rotating"]}
    assert all(r.instance is None for r in regional.rows)
    # two environment types share the scope and no account mapping names it: the default profile applies
    assert {r.policy["profile"] for r in regional.rows} == {"default"}
    global_scope = checker.unmanaged(Scope(None, "global"))
    assert {r.credential.id for r in global_scope.rows} == {"web-five", "web-long", seeded.keys["bob"]}
    assert regional.notes == () and global_scope.notes == ()


def test_report_lists_each_credential_once_sorted_by_days_left(world, seeded):
    checker, _, _ = world
    report = checker.report()
    document = report.to_json()
    ids = [r["id"] for r in document["credentials"]]
    assert len(ids) == len(set(ids)) == 3 + 4 + 2 + 2 + 2
    days = [r["days_left"] for r in document["credentials"] if r["days_left"] is not None]
    assert days == sorted(days)
    assert document["credentials"][0]["id"] == "web-expired"
    assert set(document["credentials"][0]) == {"kind", "id", "arn", "name", "account", "region", "instance",
                                               "expires_at", "days_left", "age_days", "status", "policy",
                                               "unlinked"}
    kms_rows = [r for r in document["credentials"] if r["kind"] == "kms_key"]
    assert all(r["expires_at"] is None and r["days_left"] is None for r in kms_rows)
    assert {r.status for r in report.failing} == {"expired", "critical", "rotation_disabled"}


def test_as_of_moves_the_date(world, seeded):
    checker, _, _ = world
    checker.as_of = dt.datetime.now(dt.UTC) + dt.timedelta(days=100)
    report = {r.credential.id: r for r in checker.report().rows}
    assert report[seeded.acm["forty"]].status == "expired"
    assert report[seeded.keys["alice"]].status == "overdue"     # 100 days old, max 90
    assert report[seeded.keys["alice"]].assessment.age_days == 100
    assert report["web-long"].status == "ok"


def test_unreadable_state_errors_its_item_and_unlinks_what_it_may_manage(world, aws, seeded):
    checker, prod, dev = world
    aws("s3").put_object(Bucket=prod.state_bucket, Key=prod.state_key, Body=b"{not json")
    with pytest.raises(StateError):
        checker.for_instance(prod)
    unmanaged = checker.unmanaged(Scope(None, REGION))
    assert unmanaged.notes and prod.id in unmanaged.notes[0] and "unlinked (state unreadable)" in unmanaged.notes[0]
    rows = {r.credential.id: r for r in unmanaged.rows}
    assert rows[seeded.acm["five"]].unlinked == (prod.id,)
    assert (rows[seeded.acm["five"]].status, rows[seeded.acm["five"]].policy["profile"]) == ("critical", "prod")
    report = checker.report()
    [error] = report.errors
    assert (error.kind, error.instance) == ("terraform_state", prod.id) and "could not be read" in error.message
    by_id = {r.credential.id: r for r in report.rows}
    assert by_id[seeded.acm["five"]].to_json()["unlinked"] == [prod.id]
    assert by_id[seeded.acm["forty"]].instance == dev.id and by_id[seeded.acm["forty"]].unlinked == ()
    # the same rows in the unmanaged item and in the report
    assert {k: (r.status, r.policy["profile"], r.unlinked) for k, r in rows.items()} == {
        k: (by_id[k].status, by_id[k].policy["profile"], by_id[k].unlinked) for k in rows}
    # an error only when the unreadable state reaches the reported scopes
    other = instance("net", "acme-eu", region="eu-west-1", account_id="999999999999")
    assert checker.state_errors((other,), [Scope(None, REGION)]) == ()


def test_rotation_disabled_fails_the_suite_item_as_it_fails_creds_check(world, seeded):
    """One rule: under `require_rotation: true` rotation off fails both; an expiring row only warns."""
    from harness.credentials.assertions import CredentialWarning, assert_credentials_ok
    from harness.credentials.check import CredentialReport

    checker, prod, _ = world
    rows = [r for r in checker.for_instance(prod).rows if r.status == "rotation_disabled"]
    assert {r.credential.id for r in rows} == {seeded.secrets["plain"], seeded.kms["static"]}
    assert CredentialReport(checker.as_of, tuple(rows)).failing == tuple(rows)     # creds check: exit 1
    with pytest.raises(AssertionError, match="2 credential"):
        assert_credentials_ok(prod.id, rows)
    checker.as_of = dt.datetime.now(dt.UTC) + dt.timedelta(days=80)      # alice's key: 80 of 90 days
    [expiring] = [r for r in checker.for_instance(prod).rows if r.credential.id == seeded.keys["alice"]]
    assert expiring.status == "expiring" and CredentialReport(checker.as_of, (expiring,)).failing == ()
    with pytest.warns(CredentialWarning):
        assert_credentials_ok(prod.id, [expiring])
