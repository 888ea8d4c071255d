"""Drift: every managed resource in each instance's state compared with live AWS.

One item per component instance (`test_drift[vpc@acme-prod]`): it passes when no unsuppressed
drift is found, fails with a table of the drift, and is an error when it could not be evaluated.
"""

from harness.drift.assertions import assert_no_drift


def test_drift(drift_result):
    assert_no_drift(drift_result)
