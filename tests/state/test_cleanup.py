"""Cleanup: only stale (and asked-for orphaned) locks, conditional deletes, audit, no digest or state."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from harness.log import Redactor
from harness.state.cleanup import AuditLog, clean_locks, plan_cleanup
from harness.state.layout import digest_item_id, lock_item_id
from harness.state.locks import discover_locks
from tests.state.helpers import (
    lock_info,
    make_instance,
    put_dynamodb_lock,
    put_lockfile,
    put_state,
    state_json,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=1)


def _items(backend):
    return {i["LockID"]["S"] for i in backend.dynamodb.scan(TableName=backend.table)["Items"]}


def _keys(backend):
    return {o["Key"] for o in backend.s3.list_objects_v2(Bucket=backend.bucket).get("Contents", [])}


def _audit(backend):
    return AuditLog(backend.config.report_dir / "lock-audit.jsonl", Redactor())


def test_plan_picks_stale_and_asked_for_orphans(backend):
    app = make_instance("app", "dev", use_lockfile=True)
    fresh = make_instance("fresh", "dev")
    put_dynamodb_lock(backend.dynamodb, app, lock_info(created=OLD))
    put_lockfile(backend.s3, app, lock_info(created=OLD))
    put_dynamodb_lock(backend.dynamodb, fresh, lock_info(created=NOW))
    put_dynamodb_lock(backend.dynamodb, make_instance("gone", "dev"), lock_info(created=OLD))
    put_dynamodb_lock(backend.dynamodb, make_instance("gone-new", "dev"), lock_info(created=NOW))
    put_dynamodb_lock(backend.dynamodb, make_instance("broken", "dev"), "nope")
    rows = discover_locks([app, fresh], backend.pool, config=backend.config, as_of=NOW).rows

    assert {(r.instance, r.lock_kind) for r in plan_cleanup(rows)} == {("app@dev", "dynamodb"),
                                                                       ("app@dev", "s3")}
    with_orphans = plan_cleanup(rows, include_orphaned=True)
    assert {r.state_key for r in with_orphans} == {"app/dev/terraform.tfstate", "gone/dev/terraform.tfstate"}
    assert plan_cleanup(rows, instances=["fresh@dev"]) == ()
    assert all(r.verdict != "malformed" for r in plan_cleanup(rows, include_orphaned=True))


def test_clean_removes_stale_locks_only_and_audits(backend, caplog):
    app = make_instance("app", "dev", use_lockfile=True)
    put_state(backend.s3, app, state_json(), dynamodb=backend.dynamodb)
    put_dynamodb_lock(backend.dynamodb, app, lock_info(created=OLD, who="ci@runner password=hunter2-secret"))
    put_lockfile(backend.s3, app, lock_info(created=OLD))
    scan = discover_locks([app], backend.pool, config=backend.config, as_of=NOW)
    audit = _audit(backend)

    with caplog.at_level(logging.WARNING, logger="harness.state.cleanup"):
        outcomes = clean_locks(plan_cleanup(scan.rows), backend.pool, audit, by="tester@box", now=NOW)

    assert [o.result for o in outcomes] == ["removed", "removed"]
    # The state and its digest are untouched; both locks are gone.
    assert _items(backend) == {digest_item_id("tfstate", app.state_key)}
    assert _keys(backend) == {app.state_key}
    entries = [json.loads(line) for line in audit.path.read_text().splitlines()]
    assert [(e["by"], e["lock_kind"], e["instance"], e["at"]) for e in entries] == [
        ("tester@box", "dynamodb", "app@dev", "2026-03-01T12:00:00.000000Z"),
        ("tester@box", "s3", "app@dev", "2026-03-01T12:00:00.000000Z")]
    assert entries[0]["lock"]["ID"] == "11111111-2222-3333-4444-555555555555"
    assert "hunter2-secret" not in audit.path.read_text()
    assert sum("removed stale lock" in r.getMessage() for r in caplog.records) == 2


def test_a_lock_reacquired_after_listing_is_left_alone(backend):
    app = make_instance("app", "dev", use_lockfile=True)
    put_dynamodb_lock(backend.dynamodb, app, lock_info(lock_id="old", created=OLD))
    put_lockfile(backend.s3, app, lock_info(lock_id="old", created=OLD))
    plan = plan_cleanup(discover_locks([app], backend.pool, config=backend.config, as_of=NOW).rows)
    # Between the listing and the delete, the old holder finishes and a new apply takes both locks.
    new = lock_info(lock_id="new", created=NOW)
    put_dynamodb_lock(backend.dynamodb, app, new)
    put_lockfile(backend.s3, app, new)

    outcomes = clean_locks(plan, backend.pool, _audit(backend), now=NOW)

    assert [o.result for o in outcomes] == ["changed", "changed"]
    item = backend.dynamodb.get_item(TableName=backend.table,
                                     Key={"LockID": {"S": lock_item_id("tfstate", app.state_key)}})["Item"]
    assert json.loads(item["Info"]["S"])["ID"] == "new"
    body = backend.s3.get_object(Bucket="tfstate", Key=app.state_key + ".tflock")["Body"].read()
    assert json.loads(body)["ID"] == "new"
    assert not (backend.config.report_dir / "lock-audit.jsonl").exists()


def test_a_lock_released_after_listing_is_reported_changed(backend):
    app = make_instance("app", "dev", use_lockfile=True)
    put_dynamodb_lock(backend.dynamodb, app, lock_info(created=OLD))
    put_lockfile(backend.s3, app, lock_info(created=OLD))
    plan = plan_cleanup(discover_locks([app], backend.pool, config=backend.config, as_of=NOW).rows)
    backend.dynamodb.delete_item(TableName=backend.table,
                                 Key={"LockID": {"S": lock_item_id("tfstate", app.state_key)}})
    backend.s3.delete_object(Bucket="tfstate", Key=app.state_key + ".tflock")

    assert [o.result for o in clean_locks(plan, backend.pool, _audit(backend))] == ["changed", "changed"]
    assert _items(backend) == set() and _keys(backend) == set()


def test_malformed_and_held_locks_are_never_removed_even_if_asked(backend):
    a, b = make_instance("a", "dev", use_lockfile=True), make_instance("b", "dev")
    put_dynamodb_lock(backend.dynamodb, a, "garbage")
    put_lockfile(backend.s3, a, b"not json")
    put_dynamodb_lock(backend.dynamodb, b, lock_info(created=NOW))
    put_lockfile(backend.s3, make_instance("young-orphan", "dev"), lock_info(created=NOW))
    rows = discover_locks([a, b], backend.pool, config=backend.config, as_of=NOW).rows
    assert plan_cleanup(rows, include_orphaned=True) == ()

    outcomes = clean_locks(rows, backend.pool, _audit(backend))     # bypassing the plan on purpose

    assert {o.result for o in outcomes} == {"skipped"}
    assert len(_items(backend)) == 2 and len(_keys(backend)) == 2


def test_moto_enforces_if_match_on_delete_object(backend):
    """What the S3 cleanup relies on: DeleteObject with a stale If-Match is refused (412)."""
    backend.s3.put_object(Bucket="tfstate", Key="k.tflock", Body=b"one")
    old_etag = backend.s3.head_object(Bucket="tfstate", Key="k.tflock")["ETag"]
    backend.s3.put_object(Bucket="tfstate", Key="k.tflock", Body=b"two")
    with pytest.raises(ClientError) as caught:
        backend.s3.delete_object(Bucket="tfstate", Key="k.tflock", IfMatch=old_etag)
    assert caught.value.response["Error"]["Code"] == "PreconditionFailed"
    assert "k.tflock" in _keys(backend)
    new_etag = backend.s3.head_object(Bucket="tfstate", Key="k.tflock")["ETag"]
    backend.s3.delete_object(Bucket="tfstate", Key="k.tflock", IfMatch=new_etag)
    assert "k.tflock" not in _keys(backend)


class _RacingS3:
    """The real moto client, except that a new apply takes the lock right after each read of it.

    This puts the re-acquisition exactly between the re-read and the delete, the one window only the
    `If-Match` header covers.
    """

    def __init__(self, s3, key):
        self._s3, self._key = s3, key

    def __getattr__(self, name):
        return getattr(self._s3, name)

    def get_object(self, **kwargs):
        response = self._s3.get_object(**kwargs)
        body = response["Body"].read()
        new = lock_info(lock_id="new", created=NOW)
        self._s3.put_object(Bucket=kwargs["Bucket"], Key=self._key, Body=new)
        response["Body"] = _Body(body)
        return response


class _Body:
    def __init__(self, data):
        self._data = data

    def read(self):
        return self._data


def test_if_match_alone_stops_a_delete_racing_a_new_lock(backend):
    from harness.state.writes import LockChanged, delete_lockfile

    key = "app/dev/terraform.tfstate.tflock"
    old = lock_info(lock_id="old", created=OLD)
    backend.s3.put_object(Bucket="tfstate", Key=key, Body=old)
    etag = backend.s3.head_object(Bucket="tfstate", Key=key)["ETag"]

    with pytest.raises(LockChanged):
        delete_lockfile(_RacingS3(backend.s3, key), "tfstate", key, old, etag)

    body = backend.s3.get_object(Bucket="tfstate", Key=key)["Body"].read()
    assert json.loads(body)["ID"] == "new"
