"""Suppressions: the file format and its errors, matching, expiry, and the expired/stale report."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.drift.findings import Finding
from harness.drift.suppressions import (
    Suppression,
    SuppressionError,
    apply_suppressions,
    from_marker,
    load_suppressions,
    suppression_report,
)

TODAY = date(2025, 6, 1)


def finding(**changes):
    base = Finding(kind="changed", address="aws_s3_bucket.this", type="aws_s3_bucket", resource_id="b",
                   path="tags.Owner", instance="app@prod", stack="prod")
    return base.with_changes(**changes)


def entry(match, expires=date(2025, 12, 31), source="f.yaml:1"):
    return Suppression(match=match, reason="r", owner="o", expires=expires, source=source)


def test_file_entries_with_their_lines(tmp_path):
    path = tmp_path / "drift-suppressions.yaml"
    path.write_text("""suppressions:
  - match: {instance: "app@*", path: "tags.*"}
    reason: retagging during the migration
    owner: data@example.com
    expires: 2025-09-30
    ticket: DATA-1
  - match: {kind: missing}
    reason: decommissioning
    owner: ops
    expires: "2025-07-01"
""")
    first, second = load_suppressions(path, display="drift-suppressions.yaml")
    assert first.id == "drift-suppressions.yaml:2" and second.id == "drift-suppressions.yaml:7"
    assert first.expires == date(2025, 9, 30) and first.ticket == "DATA-1"
    assert second.match == {"kind": "missing"} and second.expires == date(2025, 7, 1)
    assert load_suppressions(tmp_path / "absent.yaml") == ()


def test_a_plain_list_is_accepted(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("- {match: {address: 'aws_*'}, reason: r, owner: o, expires: 2030-01-01}\n")
    [only] = load_suppressions(path)
    assert only.match == {"address": "aws_*"}


@pytest.mark.parametrize(("body", "message"), [
    ("- {match: {path: x}, reason: r, expires: 2030-01-01}", "suppression #1: has no owner"),
    ("- {match: {path: x}, owner: o, expires: 2030-01-01}", "suppression #1: has no reason"),
    ("- {match: {path: x}, reason: r, owner: o}", "suppression #1: has no expires"),
    ("- {match: {path: x}, reason: r, owner: o, expires: soon}", "expires 'soon' is not a date"),
    ("- {match: {}, reason: r, owner: o, expires: 2030-01-01}", "has no `match`"),
    ("- {match: {colour: red}, reason: r, owner: o, expires: 2030-01-01}", "unknown key(s) colour"),
    ("- {match: {kind: drifted}, reason: r, owner: o, expires: 2030-01-01}", "'drifted' is not a finding kind"),
    ("- {match: {path: x}, reason: r, owner: o, expires: 2030-01-01, until: x}", "unknown key(s) until"),
])
def test_bad_entries_are_config_errors_naming_the_entry_and_line(tmp_path, body, message):
    path = tmp_path / "s.yaml"
    path.write_text("# accepted drift\n" + body + "\n")
    with pytest.raises(SuppressionError) as caught:
        load_suppressions(path, display="s.yaml")
    assert message in str(caught.value)
    assert "s.yaml:2" in str(caught.value)


def test_the_second_entry_is_named_with_its_own_line(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("suppressions:\n  - {match: {path: a}, reason: r, owner: o, expires: 2030-01-01}\n"
                    "  - match: {path: b}\n    reason: r\n    expires: 2030-01-01\n")
    with pytest.raises(SuppressionError, match=r"s\.yaml:3: suppression #2: has no owner"):
        load_suppressions(path, display="s.yaml")


def test_invalid_yaml_points_at_the_line(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("suppressions:\n  - match: {path: [\n")
    with pytest.raises(SuppressionError, match="invalid YAML"):
        load_suppressions(path)


def test_matching_globs_every_given_key_and_kind_exactly():
    assert entry({"instance": "app@*", "path": "tags.*"}).matches(finding())
    assert not entry({"instance": "app@dev"}).matches(finding())
    assert entry({"kind": "changed", "type": "aws_s3_*"}).matches(finding())
    assert not entry({"kind": "missing"}).matches(finding())
    unmanaged = finding(kind="unmanaged", instance=None, path="")
    assert entry({"kind": "unmanaged", "instance": "*"}).matches(unmanaged)
    assert not entry({"instance": "app@*"}).matches(unmanaged)


def test_active_entries_suppress_and_expired_ones_stop_but_are_named():
    active = entry({"path": "tags.Owner"}, source="f.yaml:1")
    expired = entry({"address": "aws_s3_bucket.*"}, expires=date(2025, 5, 31), source="f.yaml:7")
    [suppressed, flagged, untouched] = apply_suppressions(
        [finding(), finding(path="tags.Team"), finding(address="aws_vpc.main", path="cidr_block")],
        [active, expired], today=TODAY)
    assert suppressed.suppressed and suppressed.suppression["id"] == "f.yaml:1"
    assert suppressed.suppression["status"] == "active"
    assert not flagged.suppressed and flagged.suppression == {**expired.to_json(TODAY), "status": "expired"}
    assert not untouched.suppressed and untouched.suppression is None


def test_an_entry_still_suppresses_on_its_expiry_date():
    last_day = entry({"path": "*"}, expires=TODAY)
    [result] = apply_suppressions([finding()], [last_day], today=TODAY)
    assert result.suppressed
    [after] = apply_suppressions([finding()], [last_day], today=date(2025, 6, 2))
    assert not after.suppressed


def test_report_lists_expired_with_match_counts_and_stale_only_in_full_runs():
    used = entry({"path": "tags.*"}, source="f:1")
    stale = entry({"path": "nothing"}, source="f:2")
    old = entry({"address": "aws_*"}, expires=date(2024, 1, 1), source="f:3")
    unmanaged_only = entry({"kind": "unmanaged"}, source="f:4")
    findings = apply_suppressions([finding(), finding(path="x")], [used, stale, old, unmanaged_only], today=TODAY)
    report = suppression_report([used, stale, old, unmanaged_only], findings, today=TODAY, full_run=True,
                                unmanaged_checked=False)
    assert [(e["id"], e["matched"]) for e in report.expired] == [("f:3", 2)]
    assert [e["id"] for e in report.stale] == ["f:2"]
    partial = suppression_report([used, stale], findings, today=TODAY, full_run=False)
    assert partial.stale == () and not partial.judged_stale


def test_a_marker_entry_is_judged_only_on_its_own_items():
    marker = entry({"path": "tags.*"}, source="suites/x.py:9")
    report = suppression_report([marker], [finding(instance="other@prod")], today=TODAY, full_run=True,
                                scope={marker.id: {"app@prod"}})
    assert [e["id"] for e in report.stale] == ["suites/x.py:9"]


def test_markers_need_the_same_keys():
    made = from_marker({"path": "ingress", "reason": "r", "owner": "o", "expires": "2030-01-01"},
                       where="suites/test_x.py", line=12)
    assert made.match == {"path": "ingress"} and made.origin == "marker" and made.id == "suites/test_x.py:12"
    with pytest.raises(SuppressionError, match=r"suites/test_x\.py:12: expected_drift marker: has no owner"):
        from_marker({"path": "x", "reason": "r", "expires": "2030-01-01"}, where="suites/test_x.py", line=12)
    assert Suppression.from_json(made.to_json(TODAY)) == made


kinds = st.sampled_from(["changed", "missing", "unmanaged"])
findings_strategy = st.lists(st.builds(lambda k, p, i: finding(kind=k, path=p, instance=i), kinds,
                                       st.sampled_from(["", "tags.A", "name"]),
                                       st.sampled_from([None, "app@prod", "db@dev"])), max_size=8)
entries_strategy = st.lists(st.builds(lambda m, d: entry(m, expires=d),
                                      st.dictionaries(st.sampled_from(["path", "instance", "kind"]),
                                                      st.sampled_from(["*", "tags.*", "app@*", "changed"]),
                                                      min_size=1),
                                      st.dates(date(2025, 1, 1), date(2025, 12, 31))), max_size=4)


@given(findings_strategy, entries_strategy)
def test_suppression_never_drops_adds_or_reorders_findings(findings, entries):
    result = apply_suppressions(findings, entries, today=TODAY)
    assert [f.with_changes(suppressed=False, suppression=None) for f in result] == findings
    for before, after in zip(findings, result, strict=True):
        active = [e for e in entries if e.matches(before) and not e.expired(TODAY)]
        assert after.suppressed == bool(active)
