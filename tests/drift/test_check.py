"""Checking one instance: unsupported types counted, data sources skipped, read errors per type."""

from __future__ import annotations

import json
import warnings

import pytest

from harness.aws.context import AwsContext
from harness.config import load_config
from harness.drift.assertions import DriftWarning, assert_no_drift
from harness.drift.check import check_instance
from harness.inventory.engine import LiveInventory
from harness.inventory.registry import RESOURCE_TYPES
from harness.log import Redactor
from harness.state.reader import parse_state
from tests.drift.test_plan import instance


def state(*resources):
    return parse_state(json.dumps({"version": 4, "terraform_version": "1.11.4", "serial": 1, "lineage": "l",
                                   "resources": [{"mode": mode, "type": t, "name": n, "provider": "p",
                                                  "instances": [{"attributes": a}]} for mode, t, n, a in resources]}),
                       source="test")


def inventory(endpoint, tmp_path, **config):
    loaded = load_config({"aws_endpoint_url": endpoint, **config}, cwd=tmp_path, environ={})
    return LiveInventory(AwsContext.from_config(loaded, redactor=Redactor()))


def test_unsupported_types_are_counted_and_data_sources_skipped(moto, raw, tmp_path):
    raw("s3").create_bucket(Bucket="kept")
    tf = state(("managed", "aws_s3_bucket", "b", {"id": "kept", "bucket": "kept", "tags_all": {}}),
               ("managed", "aws_cloudwatch_log_group", "g", {"id": "/app"}),
               ("managed", "aws_cloudwatch_log_group", "h", {"id": "/web"}),
               ("data", "aws_caller_identity", "me", {"id": "123"}))
    result = check_instance(instance(), tf, inventory(moto, tmp_path), RESOURCE_TYPES)
    assert (result.resources, result.checked, dict(result.unchecked_types)) == (3, 1, {"aws_cloudwatch_log_group": 2})
    assert result.findings == () and result.errors == ()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert_no_drift(result)   # passes, with a warning naming what was not checked
    assert any("2 resource(s) of unsupported types not checked" in str(w.message) for w in caught)


def test_a_failed_read_is_an_error_for_that_type_only(moto, raw, tmp_path):
    raw("s3").create_bucket(Bucket="kept")
    raw("sqs").create_queue(QueueName="q")
    tf = state(("managed", "aws_s3_bucket", "b", {"id": "kept", "bucket": "kept", "tags_all": {"Owner": "x"}}),
               ("managed", "aws_sqs_queue", "q", {"id": "https://q", "name": "q"}))
    # S3 (read first: types are checked in name order) takes 3 calls; the budget ends before SQS.
    result = check_instance(instance(), tf, inventory(moto, tmp_path, api_budget=3), RESOURCE_TYPES,
                            severity="warn")
    assert result.checked == 1 and [e.address for e in result.errors] == ["aws_sqs_queue.q"]
    assert "not made" in result.errors[0].message
    [finding] = result.findings
    assert (finding.path, finding.expected, finding.actual, finding.severity) == ("tags_all.Owner", "x", None, "warn")
    with pytest.warns(DriftWarning):
        assert_no_drift(result)
