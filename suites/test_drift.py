"""Drift: every managed resource in each instance's state compared with live AWS.

One item per component instance (`test_drift[vpc@acme-prod]`): it passes when no unsuppressed
drift is found, fails with a table of the drift, and is an error when it could not be evaluated.
One item per account/region (`test_unmanaged[123456789012/eu-west-1]`) reports live resources
that carry the configured ownership marker but are in no state (skipped when the check is off).
`test_suppressions` fails when an accepted drift's expiry date has passed.
"""

from harness.drift.assertions import assert_no_drift, assert_no_expired_suppressions, assert_no_unmanaged


def test_drift(drift_result):
    assert_no_drift(drift_result)


def test_unmanaged(unmanaged_result):
    assert_no_unmanaged(unmanaged_result.scope, unmanaged_result.findings)


def test_suppressions(drift_suppressions):
    assert_no_expired_suppressions(drift_suppressions)
