"""Lock discovery: both kinds, verdicts by profile or override, digests ignored, bad input reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from harness.state.cleanup import plan_cleanup
from harness.state.lockinfo import LockInfoError, parse_lock_info
from harness.state.locks import FoundLock, discover_locks, judge
from harness.state.targets import StateTarget
from tests.state.helpers import (
    lock_info,
    make_instance,
    put_dynamodb_lock,
    put_lockfile,
    put_state,
    state_json,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ROW_KEYS = {"instance", "state_key", "lock_kind", "lock_id", "operation", "who", "created", "age_s",
            "verdict"}


def _by_location(scan):
    return {row.location: row for row in scan.rows}


def test_dynamodb_locks_judged_by_the_instance_profile(backend):
    prod = make_instance("vpc", "prod-use1", environment_type="prod")
    dev = make_instance("vpc", "dev-use1", environment_type="dev")
    two_hours_ago = NOW - timedelta(hours=2)
    put_state(backend.s3, prod, state_json(), dynamodb=backend.dynamodb)   # its digest item is no lock
    put_dynamodb_lock(backend.dynamodb, prod, lock_info(lock_id="p", created=two_hours_ago))
    put_dynamodb_lock(backend.dynamodb, dev, lock_info(lock_id="d", created=two_hours_ago, who="me@box"))

    scan = discover_locks([prod, dev], backend.pool, config=backend.config, as_of=NOW)

    assert scan.problems == ()
    rows = {row.instance: row for row in scan.rows}
    assert set(rows) == {"vpc@prod-use1", "vpc@dev-use1"}
    assert rows["vpc@prod-use1"].verdict == "held"          # prod: stale after 6h
    assert rows["vpc@dev-use1"].verdict == "stale"          # dev: stale after 1h
    assert rows["vpc@dev-use1"].to_dict() == {
        "instance": "vpc@dev-use1", "state_key": "vpc/dev-use1/terraform.tfstate", "lock_kind": "dynamodb",
        "lock_id": "d", "operation": "OperationTypeApply", "who": "me@box",
        "created": "2026-03-01T10:00:00Z", "age_s": 7200.0, "verdict": "stale"}


def test_older_than_overrides_every_profile(backend):
    prod = make_instance("vpc", "prod-use1", environment_type="prod")
    put_dynamodb_lock(backend.dynamodb, prod, lock_info(created=NOW - timedelta(seconds=100)))
    [row] = discover_locks([prod], backend.pool, config=backend.config, older_than=90, as_of=NOW).rows
    assert (row.verdict, row.age_s, row.threshold_s) == ("stale", 100.0, 90)
    [row] = discover_locks([prod], backend.pool, config=backend.config, older_than=120, as_of=NOW).rows
    assert row.verdict == "held"


def test_s3_lockfiles_and_orphans(backend):
    app = make_instance("app", "dev", use_lockfile=True, environment_type="dev")
    put_lockfile(backend.s3, app, lock_info(lock_id="s", created=NOW - timedelta(minutes=5)))
    gone = make_instance("old", "dev")                    # not in the repo any more
    put_lockfile(backend.s3, gone, lock_info(lock_id="o", created=NOW - timedelta(days=3)))
    put_dynamodb_lock(backend.dynamodb, gone, lock_info(lock_id="o2", created=NOW - timedelta(days=3)))
    backend.s3.put_object(Bucket=backend.bucket, Key="notes.txt", Body=b"not a lock")

    rows = _by_location(discover_locks([app], backend.pool, config=backend.config, as_of=NOW))

    assert set(rows) == {"s3://tfstate/app/dev/terraform.tfstate.tflock",
                         "s3://tfstate/old/dev/terraform.tfstate.tflock",
                         "dynamodb://tf-locks/tfstate/old/dev/terraform.tfstate"}
    mine = rows["s3://tfstate/app/dev/terraform.tfstate.tflock"]
    assert (mine.instance, mine.lock_kind, mine.lock_id, mine.verdict, mine.age_s) == \
        ("app@dev", "s3", "s", "held", 300.0)
    assert mine.etag
    for location in ("s3://tfstate/old/dev/terraform.tfstate.tflock",
                     "dynamodb://tf-locks/tfstate/old/dev/terraform.tfstate"):
        orphan = rows[location]
        assert orphan.instance is None and orphan.verdict == "orphaned"
        assert orphan.state_key == "old/dev/terraform.tfstate"
        assert orphan.to_dict().keys() == ROW_KEYS


def test_malformed_locks_are_reported_not_judged(backend):
    a, b, c = (make_instance(n, "dev", use_lockfile=True) for n in ("a", "b", "c"))
    put_dynamodb_lock(backend.dynamodb, a, "{truncated")
    put_dynamodb_lock(backend.dynamodb, b, None)                     # no Info attribute at all
    put_dynamodb_lock(backend.dynamodb, c, lock_info(created="last tuesday"))  # no age to be had
    put_lockfile(backend.s3, a, b"<<not json>>")
    put_lockfile(backend.s3, b, b"\xff\xfe\xfd")

    scan = discover_locks([a, b, c], backend.pool, config=backend.config, older_than=0, as_of=NOW)

    assert len(scan.rows) == 5
    for row in scan.rows:
        assert row.verdict == "malformed", row
        assert row.instance in {"a@dev", "b@dev", "c@dev"}
        assert row.age_s is None and row.created is None and row.problem and row.info is None
        # Unreadable JSON has no ID; readable JSON without an age keeps its ID for a manual unlock.
        assert row.lock_id == ("11111111-2222-3333-4444-555555555555" if row.instance == "c@dev" else None)


def test_lockfile_age_falls_back_to_last_modified(backend):
    app = make_instance("app", "dev", use_lockfile=True)
    put_lockfile(backend.s3, app, lock_info(created="not a time"))
    later = datetime.now(UTC) + timedelta(hours=3)
    [row] = discover_locks([app], backend.pool, config=backend.config, as_of=later).rows
    assert row.verdict == "stale"                 # default profile: 2h
    assert 3 * 3600 - 120 < row.age_s < 3 * 3600 + 120


def test_a_missing_table_is_a_problem_and_other_backends_are_still_read(backend):
    broken = make_instance("a", "dev", table="no-such-table")
    fine = make_instance("b", "dev", use_lockfile=True)
    put_lockfile(backend.s3, fine, lock_info(created=NOW))

    scan = discover_locks([broken, fine], backend.pool, config=backend.config, as_of=NOW)

    assert [p.location for p in scan.problems] == ["dynamodb table no-such-table (us-east-1)"]
    assert "ResourceNotFound" in scan.problems[0].message
    assert [row.instance for row in scan.rows] == ["b@dev"]


def test_locks_of_other_buckets_in_a_shared_table_are_not_listed(backend):
    app = make_instance("app", "dev")
    elsewhere = make_instance("app", "dev", bucket="other-repo-state")
    put_dynamodb_lock(backend.dynamodb, elsewhere, lock_info(created=NOW))
    backend.dynamodb.put_item(TableName=backend.table, Item={"LockID": {"S": "no-slash"}, "Info": {"S": "x"}})
    assert discover_locks([app], backend.pool, config=backend.config, as_of=NOW).rows == ()


def test_abstract_instances_own_no_locks(backend):
    base = make_instance("base", "dev", abstract=True)
    put_dynamodb_lock(backend.dynamodb, base, lock_info(created=NOW))
    real = make_instance("real", "dev")
    [row] = discover_locks([base, real], backend.pool, config=backend.config, as_of=NOW).rows
    assert row.verdict == "orphaned"


_BODIES = st.one_of(
    st.builds(lambda i, c: lock_info(lock_id=i, created=c), st.text(min_size=1, max_size=8),
              st.sampled_from(["2026-03-01T10:00:00Z", "2026-03-01T11:59:59.999999999Z", "bogus", ""])),
    st.text(max_size=30),
)


@given(body=_BODIES, owned=st.booleans(), kind=st.sampled_from(["dynamodb", "s3"]),
       threshold=st.floats(min_value=0, max_value=10_000), include_orphaned=st.booleans())
def test_verdicts_and_plans_obey_the_safety_rules(body, owned, kind, threshold, include_orphaned):
    """Whatever the lock holds: only an intact lock past its threshold can ever be planned."""
    target = StateTarget(instance="app@dev", bucket="b", state_key="k", region="us-east-1", lock_table="t",
                         uses_lockfile=True, environment_type=None, backend_key="k", deployable=True)
    last_modified = NOW - timedelta(minutes=30) if kind == "s3" else None
    found = FoundLock(kind=kind, region="us-east-1", bucket="b", state_key="k", location="loc", body=body,
                      table="t", item_id="b/k", object_key="k.tflock", etag='"e"',
                      last_modified=last_modified)
    row = judge(found, target if owned else None, threshold, NOW)

    try:
        info = parse_lock_info(body)
    except LockInfoError:
        info = None
    if info is None or (info.created is None and last_modified is None):
        assert row.verdict == "malformed"
    elif not owned:
        assert row.verdict == "orphaned"
    else:
        assert row.verdict == ("stale" if row.age_s >= threshold else "held")
    for planned in plan_cleanup([row], include_orphaned=include_orphaned):
        assert planned.info is not None and planned.age_s >= planned.threshold_s
        assert planned.verdict == "stale" or (include_orphaned and planned.verdict == "orphaned")
