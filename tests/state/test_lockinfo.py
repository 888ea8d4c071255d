"""LockInfo parsing: Terraform's own JSON, malformed bodies, and round trips."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.state.layout import (
    digest_item_id,
    is_digest_item_id,
    lock_item_id,
    lockfile_key,
    split_lock_item_id,
    state_key_of_lockfile,
    state_object_key,
)
from harness.state.lockinfo import LockInfoError, new_lock_info, parse_created, parse_lock_info

# Exactly what Terraform 1.11.4 wrote into a .tflock during an apply.
TERRAFORM_LOCK = (b'{"ID":"fe1b1720-9842-7e19-1128-f7be5befd9ed","Operation":"OperationTypeApply","Info":"",'
                  b'"Who":"root@vm","Version":"1.11.4","Created":"2026-11-26T01:59:16.139373836Z",'
                  b'"Path":"tfstate/comp/terraform.tfstate"}')


def test_parses_terraform_lock_info_with_nanoseconds():
    info = parse_lock_info(TERRAFORM_LOCK)
    assert info.id == "fe1b1720-9842-7e19-1128-f7be5befd9ed"
    assert info.operation == "OperationTypeApply"
    assert info.who == "root@vm"
    assert info.path == "tfstate/comp/terraform.tfstate"
    assert info.created == datetime(2026, 11, 26, 1, 59, 16, 139373, tzinfo=UTC)


@pytest.mark.parametrize("body, reason", [
    (b"", "not JSON"),
    (b"{not json", "not JSON"),
    (b"[1, 2]", "not an object"),
    (b'"text"', "not an object"),
    (b'{"Operation": "OperationTypeApply"}', "no ID"),
    (b'{"ID": ""}', "no ID"),
    (b'{"ID": 7}', "not strings"),
    (b'{"ID": "x", "Created": 12}', "not strings"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_malformed_lock_info_is_rejected_with_a_reason(body, reason):
    with pytest.raises(LockInfoError, match=reason):
        parse_lock_info(body, where="s3://b/k.tflock")


def test_unreadable_created_is_not_malformed():
    info = parse_lock_info(json.dumps({"ID": "a", "Created": "yesterday"}))
    assert info.created is None and info.created_text == "yesterday"


@pytest.mark.parametrize("text, expected", [
    ("2026-01-02T03:04:05Z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ("2026-01-02T05:04:05.5+02:00", datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)),
    ("2026-01-02T03:04:05", None),          # no zone: the instant is unknown
    ("2026-01-02", None),
    ("", None),
    (None, None),
])
def test_parse_created(text, expected):
    assert parse_created(text) == expected


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
       st.text(max_size=30), st.text(max_size=30))
def test_new_lock_info_round_trips(moment, operation, who):
    info = new_lock_info(operation=operation, path="b/k", who=who or None, now=moment)
    again = parse_lock_info(info.to_json())
    assert again == info
    assert again.created == moment


@given(st.one_of(st.text(), st.binary()))
def test_parse_lock_info_only_raises_lock_info_error(body):
    with contextlib.suppress(LockInfoError):
        parse_lock_info(body)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=10))
def test_parse_lock_info_on_any_json_never_crashes(value):
    try:
        info = parse_lock_info(json.dumps(value))
    except LockInfoError:
        return
    assert isinstance(value, dict) and isinstance(value["ID"], str) and value["ID"]
    assert info.id == value["ID"]


def test_backend_layout():
    assert state_object_key("terraform.tfstate") == "terraform.tfstate"
    assert state_object_key("terraform.tfstate", "dev", "vpc") == "vpc/dev/terraform.tfstate"
    assert state_object_key("t.tfstate", "dev") == "env:/dev/t.tfstate"
    assert lock_item_id("b", "vpc/dev/terraform.tfstate") == "b/vpc/dev/terraform.tfstate"
    assert digest_item_id("b", "k") == "b/k-md5"
    assert is_digest_item_id("b/k-md5") and not is_digest_item_id("b/k")
    assert split_lock_item_id("b/vpc/dev/t") == ("b", "vpc/dev/t")
    assert split_lock_item_id("no-slash") == (None, "no-slash")
    assert lockfile_key("k") == "k.tflock"
    assert state_key_of_lockfile("vpc/dev/t.tfstate.tflock") == "vpc/dev/t.tfstate"
