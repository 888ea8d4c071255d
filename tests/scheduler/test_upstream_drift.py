"""Drift in a dependency never hides a dependent's drift: findings carry `upstream_drift`."""

from __future__ import annotations

from harness.drift.findings import Finding, InstanceResult
from harness.graph import DependencyGraph
from harness.plugin.isolation import with_upstream_drift


def finding(instance: str, suppressed: bool = False) -> Finding:
    return Finding(kind="changed", address="aws_s3_bucket.x", type="aws_s3_bucket", resource_id="x",
                   path="tags.A", expected="1", actual="2", instance=instance, suppressed=suppressed)


def test_findings_list_the_drifted_dependencies_direct_and_transitive():
    graph = DependencyGraph.from_edges(["vpc@p", "subnet@p", "app@p", "dns@p"],
                                       [("vpc@p", "subnet@p"), ("subnet@p", "app@p")])
    results = [InstanceResult("vpc@p", (finding("vpc@p"),)), InstanceResult("subnet@p"),
               InstanceResult("app@p", (finding("app@p"),)), InstanceResult("dns@p", (finding("dns@p"),))]
    out = {r.instance: r for r in with_upstream_drift(results, graph)}
    assert out["app@p"].findings[0].upstream_drift == ("vpc@p",)          # through subnet, which is clean
    assert out["vpc@p"].findings[0].upstream_drift == ()
    assert out["dns@p"].findings[0].upstream_drift == ()


def test_suppressed_drift_upstream_does_not_count():
    graph = DependencyGraph.from_edges(["a@s", "b@s"], [("a@s", "b@s")])
    results = [InstanceResult("a@s", (finding("a@s", suppressed=True),)), InstanceResult("b@s", (finding("b@s"),))]
    assert with_upstream_drift(results, graph)[1].findings[0].upstream_drift == ()
