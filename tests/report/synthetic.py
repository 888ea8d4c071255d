"""Generated drift results at scale (tests and benchmarks/bench_report.py): deterministic for a seed."""

from __future__ import annotations

import json
import random
from typing import Any

from harness.drift.findings import SENSITIVE_CHANGED, EvaluationError, Finding, InstanceResult
from harness.graph import DependencyGraph, GraphNode
from harness.log import Redactor
from harness.report.drift_json import RunInfo, build_document, graph_section

ENVIRONMENTS = ("prod", "staging", "dev", "sandbox")
TYPES = ("aws_s3_bucket", "aws_security_group", "aws_iam_role", "aws_sqs_queue", "aws_dynamodb_table")


def instance_ids(stacks: int, components: int) -> list[str]:
    return [f"comp{c:02d}@acme-{ENVIRONMENTS[s % 4]}-{s:03d}" for s in range(stacks) for c in range(components)]


def synthetic_graph(stacks: int, components: int) -> DependencyGraph:
    """Per stack a chain comp00 -> comp01 -> ... every fourth component starting a new chain."""
    nodes, edges = [], []
    for s in range(stacks):
        stack = f"acme-{ENVIRONMENTS[s % 4]}-{s:03d}"
        for c in range(components):
            nodes.append(GraphNode(f"comp{c:02d}@{stack}", f"comp{c:02d}", stack, ENVIRONMENTS[s % 4]))
            if c % 4:
                edges.append((f"comp{c - 1:02d}@{stack}", f"comp{c:02d}@{stack}"))
    return DependencyGraph(nodes, edges)


def _value(rng: random.Random, path: str) -> tuple[Any, Any]:
    if path == "ingress":
        rule = {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/8"]}
        extra = {"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}
        return [rule], [rule, extra]
    if path == "policy":
        statement = [{"Effect": "Allow", "Action": [f"s3:Get{n}" for n in range(rng.randint(3, 12))],
                      "Resource": f"arn:aws:s3:::bucket-{rng.randint(0, 999)}/*"}]
        changed = json.loads(json.dumps(statement))
        changed[0]["Action"].append("s3:PutObject")
        return {"Version": "2012-10-17", "Statement": statement}, {"Version": "2012-10-17", "Statement": changed}
    if path == "tags.Token":
        return SENSITIVE_CHANGED, SENSITIVE_CHANGED
    return f"value-{rng.randint(0, 50)}", f"value-{rng.randint(51, 99)}"


def synthetic_results(findings: int, *, stacks: int = 100, components: int = 20, errors: int = 25,
                      seed: int = 1) -> list[InstanceResult]:
    """`findings` findings spread over stacks x components instances, a few suppressed, some errors."""
    rng = random.Random(seed)
    ids = instance_ids(stacks, components)
    per_instance: dict[str, list[Finding]] = {i: [] for i in ids}
    paths = ("tags.Owner", "tags.CostCenter", "tags_all.ManagedBy", "ingress", "policy", "tags.Token",
             "visibility_timeout_seconds", "billing_mode")
    for n in range(findings):
        instance = rng.choice(ids)
        component, _, stack = instance.partition("@")
        kind = rng.choices(("changed", "missing"), weights=(9, 1))[0]
        rtype = rng.choice(TYPES)
        address = f"{rtype}.this[{n % 7}]"
        path = rng.choice(paths) if kind == "changed" else ""
        expected, actual = _value(rng, path) if kind == "changed" else (None, None)
        suppressed = rng.random() < 0.05
        suppression = ({"match": {"instance": instance, "path": path}, "reason": "accepted while migrating",
                        "owner": "platform-team", "expires": "2026-12-31"} if suppressed else None)
        per_instance[instance].append(Finding(
            kind=kind, address=address, type=rtype, resource_id=f"id-{n}", path=path, expected=expected,
            actual=actual, instance=instance, stack=stack, component=component,
            environment_type=stack.split("-")[1], severity="fail" if "prod" in stack else "warn",
            suppressed=suppressed, suppression=suppression))
    failing = set(rng.sample(ids, errors))
    return [InstanceResult(i, findings=tuple(per_instance[i]),
                           errors=(EvaluationError(i, "AccessDenied: not authorized to perform s3:GetBucketTagging",
                                                   "aws_s3_bucket.this[0]"),) if i in failing else (),
                           resources=20, checked=19 if i in failing else 20)
            for i in ids]


def synthetic_document(findings: int = 10_000, *, stacks: int = 100, components: int = 20, seed: int = 1,
                       started: str = "2026-11-26T01:00:00Z", finished: str = "2026-11-26T01:20:00Z") -> dict[str, Any]:
    """A full drift.json document (graph included) of a generated run."""
    results = synthetic_results(findings, stacks=stacks, components=components, seed=seed)
    run = RunInfo(started=started, finished=finished, repo="/repos/acme-infra", workers=4,
                  instances=tuple(instance_ids(stacks, components)))
    api = {"total": 41_234, "by_operation": {"s3.GetBucketTagging": 20_000}, "retried": 120, "throttled": 87}
    return build_document(run, results, instances=stacks * components, api_calls=api,
                          graph=graph_section(synthetic_graph(stacks, components)), redactor=Redactor())
