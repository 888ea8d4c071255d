"""State verification: each check's ok/warn/fail, per instance, never a crash, errors never ok."""

from __future__ import annotations

import hashlib
import json

import pytest

from harness.state.verify import failed, verify_states
from tests.state.helpers import make_instance, put_state, resource, state_json

AWS = ("aws_s3_bucket", "aws_vpc")


def _checks(rows, instance):
    return {r.check: (r.status, r.detail) for r in rows if r.instance == instance}


def _verify(backend, instances, **kwargs):
    kwargs.setdefault("known_types", AWS)
    return verify_states(instances, backend.pool, config=backend.config, **kwargs)


def test_a_healthy_state_passes_every_check(backend):
    app = make_instance("app", "dev")
    for serial in (1, 2, 3):
        put_state(backend.s3, app, state_json(serial=serial, resources=[
            resource("aws_s3_bucket", "logs"), resource("aws_sqs_queue", "jobs"),
            resource("aws_sqs_queue", "dlq"),
            resource("terraform_data", "x", provider='provider["terraform.io/builtin/terraform"]')]),
            dynamodb=backend.dynamodb)

    rows = _verify(backend, [app])

    checks = _checks(rows, "app@dev")
    assert [r.check for r in rows] == ["parse", "version", "digest", "serial", "lineage", "unchecked_types"]
    assert {c: s for c, (s, _) in checks.items()} == {
        "parse": "ok", "version": "ok", "digest": "ok", "serial": "ok", "lineage": "ok",
        "unchecked_types": "warn"}
    assert checks["serial"][1].startswith("3 version(s) compared")
    assert checks["unchecked_types"][1] == "not checkable for drift: aws_sqs_queue (2)"
    assert not failed(rows)


def test_all_types_known(backend):
    app = make_instance("app", "dev")
    put_state(backend.s3, app, state_json(resources=[resource("aws_vpc", "main")]))
    assert _checks(_verify(backend, [app]), "app@dev")["unchecked_types"][0] == "ok"


def test_rollback_and_replaced_lineage_fail(backend):
    rolled, replaced = make_instance("rolled", "dev"), make_instance("replaced", "dev")
    for serial in (4, 5, 3):
        put_state(backend.s3, rolled, state_json(serial=serial))
    put_state(backend.s3, replaced, state_json(serial=7, lineage="first"))
    put_state(backend.s3, replaced, state_json(serial=8, lineage="second"))

    rows = _verify(backend, [rolled, replaced])

    assert failed(rows)
    serial = _checks(rows, "rolled@dev")["serial"]
    assert serial[0] == "fail" and "serial 5 → 3" in serial[1]
    assert _checks(rows, "rolled@dev")["lineage"][0] == "ok"
    lineage = _checks(rows, "replaced@dev")["lineage"]
    assert lineage[0] == "fail" and "first → second" in lineage[1]
    assert _checks(rows, "replaced@dev")["serial"][0] == "ok"    # serials of different lineages


def test_without_versioning_history_is_a_warning(backend):
    backend.s3.create_bucket(Bucket="plain")
    app = make_instance("app", "dev", bucket="plain", table=None)
    put_state(backend.s3, app, state_json())
    checks = _checks(_verify(backend, [app]), "app@dev")
    assert checks["serial"][0] == checks["lineage"][0] == "warn"
    assert "versioning is off" in checks["serial"][1]
    assert checks["digest"][0] == "ok" and "no dynamodb_table" in checks["digest"][1]


def test_terraform_version_newer_than_the_maximum_fails(backend):
    app = make_instance("app", "dev")
    put_state(backend.s3, app, state_json(terraform_version="1.12.0"))
    config = backend.config.with_overrides(max_terraform_version="1.11.4")
    rows = verify_states([app], backend.pool, config=config, known_types=AWS)
    assert _checks(rows, "app@dev")["version"][0] == "fail"
    config = backend.config.with_overrides(max_terraform_version="1.12.0")
    rows = verify_states([app], backend.pool, config=config, known_types=AWS)
    assert _checks(rows, "app@dev")["version"][0] == "ok"
    put_state(backend.s3, app, state_json(terraform_version="1.13.0-beta1"))
    config = backend.config.with_overrides(max_terraform_version="1.13.0")
    assert _checks(verify_states([app], backend.pool, config=config, known_types=AWS),
                   "app@dev")["version"][0] == "ok"


@pytest.mark.parametrize("digest, status", [
    (None, "ok"),                                  # the right MD5, as Terraform writes it
    ("upper", "ok"),                               # Terraform decodes hex case-insensitively
    ("0" * 32, "fail"),
    ("not-an-md5", "warn"),                        # Terraform ignores an undecodable digest
    ("", "warn"),
])
def test_digest_check(backend, digest, status):
    app = make_instance("app", "dev")
    body = state_json()
    if digest == "upper":
        digest = hashlib.md5(body).hexdigest().upper()
    put_state(backend.s3, app, body, dynamodb=backend.dynamodb, digest=digest)
    result = _checks(_verify(backend, [app]), "app@dev")["digest"]
    assert result[0] == status, result


def test_missing_states_and_stray_digests(backend):
    never, stray = make_instance("never", "dev"), make_instance("stray", "dev")
    put_state(backend.s3, stray, state_json(), dynamodb=backend.dynamodb)
    backend.s3.delete_object(Bucket="tfstate", Key=stray.state_key)      # state gone, digest left

    rows = _verify(backend, [never, stray])

    assert _checks(rows, "never@dev") == {"missing": ("warn", _checks(rows, "never@dev")["missing"][1])}
    stray_checks = _checks(rows, "stray@dev")
    assert stray_checks["missing"][0] == "warn"
    assert stray_checks["digest"][0] == "fail" and "no state object" in stray_checks["digest"][1]


def test_orphaned_states_and_non_deployable_instances(backend):
    app = make_instance("app", "dev")
    off = make_instance("off", "dev", enabled=False)
    for instance in (app, off):
        put_state(backend.s3, instance, state_json())
    backend.s3.put_object(Bucket="tfstate", Key="gone/dev/terraform.tfstate", Body=state_json())
    backend.s3.put_object(Bucket="tfstate", Key="misc/legacy.tfstate", Body=state_json())
    backend.s3.put_object(Bucket="tfstate", Key="gone/dev/terraform.tfstate.tflock", Body=b"{}")
    backend.s3.put_object(Bucket="tfstate", Key="README.md", Body=b"docs")

    rows = _verify(backend, [app, off])

    orphans = [r for r in rows if r.check == "orphan"]
    assert [(r.instance, r.status) for r in orphans] == [(None, "warn"), (None, "warn")]
    assert "gone/dev/terraform.tfstate" in orphans[0].detail
    assert "misc/legacy.tfstate" in orphans[1].detail
    assert _checks(rows, "off@dev") == {}                     # disabled: not verified, not an orphan


@pytest.mark.parametrize("body, words", [
    (state_json()[:40], "not valid JSON"),
    (b"", "empty"),
    (b"not json at all", "not valid JSON"),
    (state_json(version=3), "unsupported state version 3"),
])
def test_bad_states_fail_parse_for_that_instance_only(backend, body, words):
    bad, good = make_instance("bad", "dev"), make_instance("good", "dev")
    put_state(backend.s3, bad, body, dynamodb=backend.dynamodb)
    put_state(backend.s3, good, state_json(), dynamodb=backend.dynamodb)

    rows = _verify(backend, [bad, good])

    bad_checks = _checks(rows, "bad@dev")
    assert bad_checks["parse"][0] == "fail" and words in bad_checks["parse"][1]
    assert bad_checks["digest"][0] == "ok"          # the digest is over bytes, parseable or not
    assert "version" not in bad_checks and "unchecked_types" not in bad_checks
    assert {s for s, _ in _checks(rows, "good@dev").values()} <= {"ok", "warn"}
    assert failed(rows)
    assert len(backend.s3.list_objects_v2(Bucket="tfstate")["Contents"]) == 2    # nothing deleted


def test_an_unreadable_backend_is_a_failure_not_ok(backend):
    nowhere = make_instance("app", "dev", bucket="no-such-bucket", table="no-such-table")
    rows = _verify(backend, [nowhere])
    assert failed(rows)
    assert [r.check for r in rows if r.status == "fail"] == ["digest", "orphan"]


def test_history_reads_large_and_unusually_ordered_states(backend):
    """Headers come from the first 4 KiB when Terraform's order holds, else from the whole object."""
    big = [resource("aws_s3_bucket", f"b{i}", attributes={"id": f"b{i}", "blob": "x" * 500})
           for i in range(20)]
    app, sorted_keys = make_instance("app", "dev"), make_instance("sorted", "dev")
    for serial in (5, 4):
        put_state(backend.s3, app, state_json(serial=serial, resources=big))
        body = json.dumps({"version": 4, "terraform_version": "1.11.4", "serial": serial,
                           "lineage": "l", "outputs": {}, "resources": big}, sort_keys=True).encode()
        assert len(body) > 4096 and body.index(b'"serial"') > body.index(b'"resources"')
        put_state(backend.s3, sorted_keys, body)
    rows = _verify(backend, [app, sorted_keys])
    for instance in ("app@dev", "sorted@dev"):
        serial = _checks(rows, instance)["serial"]
        assert serial[0] == "fail" and "serial 5 → 4" in serial[1], serial
