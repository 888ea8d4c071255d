"""Policies per kind and environment type, and the status each credential gets on a date."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.config import EnvironmentProfile, HarnessConfig
from harness.credentials.model import (
    ACM_CERTIFICATE,
    IAM_ACCESS_KEY,
    IAM_SERVER_CERTIFICATE,
    KINDS,
    KMS_KEY,
    SECRETSMANAGER_SECRET,
    STATUS_ORDER,
    Credential,
)
from harness.credentials.policy import CredentialPolicy, parse_policy, policy_for
from harness.credentials.status import assess
from harness.errors import ConfigError

AS_OF = dt.datetime(2030, 6, 1, tzinfo=dt.UTC)


def cert(kind: str = ACM_CERTIFICATE, *, expires_in: float) -> Credential:
    return Credential(kind=kind, id="c", arn=None, name="c", account=None, region=None,
                      expires_at=AS_OF + dt.timedelta(days=expires_in))


def aged(kind: str = IAM_ACCESS_KEY, *, age: float, active: bool = True, rotation: bool | None = None) -> Credential:
    return Credential(kind=kind, id="k", arn=None, name="k", account=None, region=None,
                      changed_at=AS_OF - dt.timedelta(days=age), active=active, rotation_enabled=rotation)


def test_defaults_when_unconfigured():
    for kind in KINDS:
        policy = parse_policy(kind, None)
        assert (policy.warn_days, policy.critical_days, policy.max_age_days, policy.require_rotation) == \
            (30, 7, 90, False)
    assert parse_policy(KMS_KEY, None).to_json() == {"profile": "default", "require_rotation": False}
    assert parse_policy(ACM_CERTIFICATE, None).to_json() == {"profile": "default", "warn_days": 30, "critical_days": 7}


@pytest.mark.parametrize(("kind", "data", "message"), [
    (ACM_CERTIFICATE, {"warn_day": 3}, "did you mean 'warn_days'"),
    (KMS_KEY, {"warn_days": 3}, "kms_key accepts: require_rotation"),
    (ACM_CERTIFICATE, {"warn_days": -1}, "whole number of days"),
    (ACM_CERTIFICATE, {"warn_days": 5, "critical_days": 10}, "critical_days (10) exceeds warn_days (5)"),
    (SECRETSMANAGER_SECRET, {"require_rotation": "yes"}, "must be true or false"),
    (IAM_ACCESS_KEY, {"sink": {"type": "s3", "name": "x"}}, "sink.type must be one of secretsmanager, ssm"),
    (IAM_ACCESS_KEY, {"sink": {"type": "ssm"}}, "sink.name must be a non-empty string"),
    ("acm_certificates", {}, "did you mean 'acm_certificate'"),
])
def test_invalid_policies_name_the_key(kind, data, message):
    with pytest.raises(ConfigError) as info:
        parse_policy(kind, data, profile="prod")
    assert message in info.value.message
    if kind in KINDS:
        assert f"profiles.prod.credentials.{kind}" in info.value.message


def test_policy_table_per_environment_type():
    config = HarnessConfig(profiles={
        "prod": EnvironmentProfile(name="prod", credentials={
            ACM_CERTIFICATE: {"warn_days": 45, "critical_days": 14},
            IAM_ACCESS_KEY: {"max_age_days": 60, "warn_days": 10,
                             "sink": {"type": "secretsmanager", "name": "iam/{user}/access-key"}},
            SECRETSMANAGER_SECRET: {"max_age_days": 30, "require_rotation": True},
            KMS_KEY: {"require_rotation": True}}),
        "dev": EnvironmentProfile(name="dev", credentials={ACM_CERTIFICATE: {"warn_days": 7, "critical_days": 2}}),
    })
    table = {(env, kind): policy_for(config.profile_for(env), kind).to_json()
             for env in ("prod", "dev", "sandbox") for kind in KINDS}
    assert table[("prod", ACM_CERTIFICATE)] == {"profile": "prod", "warn_days": 45, "critical_days": 14}
    assert table[("dev", ACM_CERTIFICATE)] == {"profile": "dev", "warn_days": 7, "critical_days": 2}
    assert table[("sandbox", ACM_CERTIFICATE)] == {"profile": "default", "warn_days": 30, "critical_days": 7}
    assert table[("prod", IAM_ACCESS_KEY)]["sink"] == {"type": "secretsmanager", "name": "iam/{user}/access-key"}
    assert table[("dev", IAM_ACCESS_KEY)] == {"profile": "dev", "max_age_days": 90, "warn_days": 30, "sink": None,
                                              "grace_days": 7}
    assert table[("prod", KMS_KEY)] == {"profile": "prod", "require_rotation": True}
    assert table[("dev", KMS_KEY)] == {"profile": "dev", "require_rotation": False}
    # The same certificate, 20 days from expiry: expiring in prod (warn 45), ok in dev (warn 7).
    c = cert(expires_in=20)
    assert assess(c, policy_for(config.profile_for("prod"), ACM_CERTIFICATE), AS_OF).status == "expiring"
    assert assess(c, policy_for(config.profile_for("dev"), ACM_CERTIFICATE), AS_OF).status == "ok"
    assert assess(c, policy_for(config.profile_for("sandbox"), ACM_CERTIFICATE), AS_OF).status == "expiring"


@pytest.mark.parametrize(("expires_in", "status", "days_left"), [
    (-3, "expired", -3), (0, "expired", 0), (0.5, "critical", 0), (5, "critical", 5), (7, "critical", 7),
    (7.5, "expiring", 7), (30, "expiring", 30), (40, "ok", 40), (400, "ok", 400),
])
@pytest.mark.parametrize("kind", [ACM_CERTIFICATE, IAM_SERVER_CERTIFICATE])
def test_certificate_status(kind, expires_in, status, days_left):
    assessment = assess(cert(kind, expires_in=expires_in), CredentialPolicy(kind, "default"), AS_OF)
    assert (assessment.status, assessment.days_left) == (status, days_left)


@pytest.mark.parametrize(("age", "status", "days_left"), [
    (0.2, "ok", 90), (1, "ok", 89), (59, "ok", 31), (60, "expiring", 30), (89, "expiring", 1),
    (90, "expiring", 0), (90.5, "expiring", 0), (91, "overdue", -1), (200, "overdue", -110),
])
@pytest.mark.parametrize("kind", [IAM_ACCESS_KEY, SECRETSMANAGER_SECRET])
def test_age_status(kind, age, status, days_left):
    assessment = assess(aged(kind, age=age), CredentialPolicy(kind, "default"), AS_OF)
    assert (assessment.status, assessment.days_left, assessment.age_days) == (status, days_left, int(age))


def test_inactive_keys_are_not_overdue():
    assessment = assess(aged(age=500, active=False), CredentialPolicy(IAM_ACCESS_KEY, "default"), AS_OF)
    assert (assessment.status, assessment.days_left, assessment.reason) == ("ok", None, "inactive")
    assert assessment.age_days == 500


def test_rotation_required():
    required = CredentialPolicy(SECRETSMANAGER_SECRET, "prod", require_rotation=True)
    assert assess(aged(SECRETSMANAGER_SECRET, age=1, rotation=False), required, AS_OF).status == "rotation_disabled"
    assert assess(aged(SECRETSMANAGER_SECRET, age=1, rotation=True), required, AS_OF).status == "ok"
    # overdue is more severe than rotation_disabled
    assert assess(aged(SECRETSMANAGER_SECRET, age=100, rotation=False), required, AS_OF).status == "overdue"
    kms = CredentialPolicy(KMS_KEY, "prod", require_rotation=True)
    assert assess(aged(KMS_KEY, age=900, rotation=False), kms, AS_OF).status == "rotation_disabled"
    assert assess(aged(KMS_KEY, age=900, rotation=None), kms, AS_OF).status == "ok"   # not rotatable
    assert assess(aged(KMS_KEY, age=900, rotation=False), CredentialPolicy(KMS_KEY, "dev"), AS_OF).status == "ok"


@given(st.floats(min_value=-1000, max_value=1000), st.floats(min_value=0, max_value=1000),
       st.integers(min_value=0, max_value=60), st.integers(min_value=0, max_value=60))
def test_certificate_status_only_worsens_with_time(expires_in, later_by, critical, extra):
    """Moving the date forward never makes a certificate's status less severe, and days_left only falls."""
    policy = CredentialPolicy(ACM_CERTIFICATE, "p", warn_days=critical + extra, critical_days=critical)
    credential = cert(expires_in=expires_in)
    now = assess(credential, policy, AS_OF)
    later = assess(credential, policy, AS_OF + dt.timedelta(days=later_by))
    assert STATUS_ORDER.index(later.status) <= STATUS_ORDER.index(now.status)
    assert later.days_left <= now.days_left


def scheduled_secret(*, changed_days_ago: float, next_in: float | None, every: int | None,
                     enabled: bool = True) -> Credential:
    now = AS_OF - dt.timedelta(days=100)          # the check runs now and looks 100 days ahead
    details = {"rotation_days": every,
               "next_rotation_at": None if next_in is None else (now + dt.timedelta(days=next_in)).isoformat()}
    return Credential(kind=SECRETSMANAGER_SECRET, id="s", arn=None, name="s", account=None, region=None,
                      changed_at=now - dt.timedelta(days=changed_days_ago), rotation_enabled=enabled,
                      details=details)


@pytest.mark.parametrize(("secret", "status", "age_days"), [
    # rotates every 30 days, next in 10: rotations at +10, +40, +70, +100 -> 0 days old on AS_OF
    (scheduled_secret(changed_days_ago=20, next_in=10, every=30), "ok", 0),
    # every 45 days, next in 5: at +5, +50, +95 -> 5 days old
    (scheduled_secret(changed_days_ago=40, next_in=5, every=45), "ok", 5),
    # the schedule from the last change when AWS gives no next date: +10, +40, +70, +100
    (scheduled_secret(changed_days_ago=20, next_in=None, every=30), "ok", 0),
    # only a next date (a cron schedule): aged from that one rotation
    (scheduled_secret(changed_days_ago=20, next_in=5, every=None), "overdue", 95),
    # the next rotation is already late: the schedule is not trusted, the age counts from the change
    (scheduled_secret(changed_days_ago=60, next_in=-1, every=30), "overdue", 160),
    # rotation off: no projection
    (scheduled_secret(changed_days_ago=20, next_in=10, every=30, enabled=False), "overdue", 120),
])
def test_as_of_ages_a_scheduled_secret_from_its_last_rotation_before_that_date(secret, status, age_days):
    now = AS_OF - dt.timedelta(days=100)
    assessment = assess(secret, CredentialPolicy(SECRETSMANAGER_SECRET, "default"), AS_OF, now=now)
    assert (assessment.status, assessment.age_days) == (status, age_days)
    # on the day of the check itself nothing has rotated yet
    today = assess(secret, CredentialPolicy(SECRETSMANAGER_SECRET, "default"), now, now=now)
    assert today.age_days == (now - secret.changed_at).days
