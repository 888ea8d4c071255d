"""Drift check benchmark: 50 components, 2,000 resources across the 18 supported types, on moto.

Generates an Atmos repo (5 stacks x 10 components; every component holds 40 resources of one of six
bundles: storage, network, identity, table, messaging, secrets), provisions it on an embedded moto
server with the emulator, then runs the real drift suite (`pytest suites/test_drift.py`) and reports:
wall time at `-n 1/2/4`, API calls per resource by type, and time and calls with 50 ms of injected
latency per call (`--inject-aws-faults latency_ms=50`). Every run must find zero drift (a clean
environment); the figures come from drift.json's `summary.api_calls`.
Figures are taken on a shared machine (moto in this process serves every worker; the lead re-measures).
Run: `.venv/bin/python benchmarks/bench_drift.py [--workers 1,2,4] [--latency-workers 1,4]`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from harness.aws.session import SessionPool
from harness.config import load_config
from harness.demo import SOURCE_ROOT, provision
from harness.embedded import DUMMY_CREDENTIALS, embedded_moto
from harness.inventory.registry import RESOURCE_TYPES
from harness.stacks import load

STACKS, COMPONENTS_PER_STACK, PER_COMPONENT = 5, 10, 40
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"Service": "ec2.amazonaws.com"}}]}
DOCUMENT = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
TAGS = "{tags}"
NAME = "{stage}-{name}-{index}"


def ref(address: str, attribute: str) -> dict[str, str]:
    return {"ref": f"{address}[{{index}}].{attribute}"}


# Six bundles of exactly 40 resources each (the `count`s add up to 40).
BUNDLES: dict[str, list[dict[str, Any]]] = {
    "storage": [
        {"address": "aws_s3_bucket.this", "count": 10, "args": {"bucket": NAME, "tags": TAGS}},
        {"address": "aws_s3_bucket_versioning.this", "count": 10,
         "args": {"bucket": ref("aws_s3_bucket.this", "id"), "versioning_configuration": {"status": "Enabled"}}},
        {"address": "aws_s3_bucket_server_side_encryption_configuration.this", "count": 10,
         "args": {"bucket": ref("aws_s3_bucket.this", "id")}},
        {"address": "aws_s3_bucket_public_access_block.this", "count": 10,
         "args": {"bucket": ref("aws_s3_bucket.this", "id"), "block_public_acls": True, "block_public_policy": True}},
    ],
    "network": [
        {"address": "aws_vpc.this", "args": {"cidr_block": "10.0.0.0/16", "tags": TAGS}},
        {"address": "aws_subnet.this", "count": 10,
         "args": {"vpc_id": {"ref": "aws_vpc.this.id"}, "cidr_block": "10.0.{index}.0/24", "tags": TAGS}},
        {"address": "aws_security_group.this", "count": 10,
         "args": {"name": NAME, "vpc_id": {"ref": "aws_vpc.this.id"}, "tags": TAGS,
                  "egress": [{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}]}},
        {"address": "aws_vpc_security_group_ingress_rule.https", "count": 10,
         "args": {"security_group_id": ref("aws_security_group.this", "id"), "ip_protocol": "tcp",
                  "from_port": 443, "to_port": 443, "cidr_ipv4": "10.0.0.0/8"}},
        {"address": "aws_instance.this", "count": 9,
         "args": {"ami": "ami-12c6146b", "instance_type": "t3.micro", "subnet_id": ref("aws_subnet.this", "id"),
                  "vpc_security_group_ids": [ref("aws_security_group.this", "id")], "tags": TAGS}},
    ],
    "identity": [
        {"address": "aws_iam_role.this", "count": 10,
         "args": {"name": NAME, "assume_role_policy": TRUST, "tags": TAGS}},
        {"address": "aws_iam_policy.this", "count": 10, "args": {"name": NAME, "policy": DOCUMENT, "tags": TAGS}},
        {"address": "aws_iam_role_policy_attachment.this", "count": 10,
         "args": {"role": ref("aws_iam_role.this", "name"), "policy_arn": ref("aws_iam_policy.this", "arn")}},
        {"address": "aws_iam_user.this", "count": 10, "args": {"name": NAME, "tags": TAGS}},
    ],
    "table": [
        {"address": "aws_dynamodb_table.this", "count": 40,
         "args": {"name": NAME, "billing_mode": "PAY_PER_REQUEST", "hash_key": "pk",
                  "attribute": [{"name": "pk", "type": "S"}], "tags": TAGS}},
    ],
    "messaging": [
        {"address": "aws_sqs_queue.this", "count": 20, "args": {"name": NAME, "tags": TAGS}},
        {"address": "aws_sns_topic.this", "count": 20, "args": {"name": NAME, "tags": TAGS}},
    ],
    "secrets": [
        {"address": "aws_kms_key.this", "count": 20, "args": {"description": NAME, "tags": TAGS}},
        {"address": "aws_secretsmanager_secret.this", "count": 20, "args": {"name": "{stage}/{name}/{index}",
                                                                             "tags": TAGS}},
    ],
}


def generate_repo(root: Path) -> Counter[str]:
    """Write the Atmos repo; returns the number of resources by type."""
    (root / "atmos.yaml").write_text(yaml.safe_dump({
        "base_path": ".", "components": {"terraform": {"base_path": "components/terraform"}},
        "stacks": {"base_path": "stacks", "included_paths": ["*.yaml"], "name_pattern": "{stage}"}}))
    (root / "stacks").mkdir()
    counts: Counter[str] = Counter()
    for bundle, resources in BUNDLES.items():
        folder = root / "components" / "terraform" / bundle
        folder.mkdir(parents=True)
        (folder / "stackharness-emulation.yaml").write_text(yaml.safe_dump({"resources": resources}, sort_keys=False))
        assert sum(r.get("count", 1) for r in resources) == PER_COMPONENT, bundle
    bundles = list(BUNDLES)
    for s in range(STACKS):
        components = {}
        for c in range(COMPONENTS_PER_STACK):
            bundle = bundles[(s * COMPONENTS_PER_STACK + c) % len(bundles)]
            components[f"c{c:02d}"] = {"metadata": {"component": bundle},
                                       "vars": {"name": f"c{c:02d}", "tags": {"Team": bundle}}}
            for resource in BUNDLES[bundle]:
                counts[resource["address"].split(".")[0]] += resource.get("count", 1)
        (root / "stacks" / f"bench-{s}.yaml").write_text(yaml.safe_dump({
            "vars": {"stage": f"bench{s}"},
            "terraform": {"backend_type": "s3", "backend": {"s3": {
                "bucket": "bench-tfstate", "dynamodb_table": "bench-tflock", "key": "terraform.tfstate",
                "region": "us-east-1"}}},
            "settings": {"stackharness": {"region": "us-east-1"}},
            "components": {"terraform": components}}))
    return counts


def run_suite(endpoint: str, repo: Path, report_dir: Path, workers: int, faults: str | None = None) -> dict[str, Any]:
    command = [sys.executable, "-m", "pytest", str(SOURCE_ROOT / "suites" / "test_drift.py"), "-q",
               "-p", "no:cacheprovider", "-n", str(workers), "--stacks-repo", str(repo),
               "--aws-endpoint-url", endpoint, "--report-dir", str(report_dir)]
    if faults:
        command += ["--inject-aws-faults", faults]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=SOURCE_ROOT, capture_output=True, text=True, env=dict(os.environ),
                            check=False)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"the drift suite did not pass on a clean environment:\n{result.stdout[-3000:]}")
    document = json.loads((report_dir / "drift.json").read_text())
    return {"workers": workers, "faults": faults, "wall": wall, "summary": document["summary"]}


def calls_by_type(by_operation: dict[str, int], counts: Counter[str]) -> dict[str, float]:
    """Calls per resource by type: an operation several types use is shared out by their resource counts."""
    users: dict[str, list[str]] = {}
    for name, rtype in RESOURCE_TYPES.items():
        for service, operation in rtype.calls:
            api = "".join(part.capitalize() for part in operation.split("_"))
            users.setdefault(f"{service}.{api}", []).append(name)
    calls: Counter[str] = Counter()
    for operation, n in by_operation.items():
        types = [t for t in users.get(operation, []) if counts[t]]
        total = sum(counts[t] for t in types)
        for t in types:
            calls[t] += n * counts[t] / total
    return {t: calls[t] / counts[t] for t in sorted(counts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--latency-workers", default="1,4")
    args = parser.parse_args()
    for name, value in DUMMY_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp, embedded_moto() as endpoint:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        counts = generate_repo(repo)
        config = load_config({"aws_endpoint_url": endpoint, "stacks_repo": str(repo)}, environ={})
        stack_set = load(repo, config)
        started = time.perf_counter()
        provision(SessionPool(config), stack_set)
        print(f"provisioned {len(stack_set.deployable)} components, {sum(counts.values())} resources of "
              f"{len(counts)} types in {time.perf_counter() - started:.1f} s", flush=True)
        runs = []
        for workers in [int(w) for w in args.workers.split(",")]:
            runs.append(run_suite(endpoint, repo, Path(tmp) / f"n{workers}", workers))
        for workers in [int(w) for w in args.latency_workers.split(",") if w]:
            runs.append(run_suite(endpoint, repo, Path(tmp) / f"lat{workers}", workers, "latency_ms=50"))
        for run in runs:
            summary = run["summary"]
            assert summary["checked"] == sum(counts.values()) and summary["changed"] == summary["missing"] == 0
            calls = summary["api_calls"]["total"]
            print(f"-n {run['workers']} {'latency 50 ms' if run['faults'] else 'no latency   '}: "
                  f"{run['wall']:6.1f} s wall, {calls} calls ({calls / summary['checked']:.3f} per resource), "
                  f"{summary['checked']} resources checked, 0 drift", flush=True)
        print("\ncalls per resource by type (-n 1):")
        per_type = calls_by_type(runs[0]["summary"]["api_calls"]["by_operation"], counts)
        for name, value in per_type.items():
            print(f"  {name:<52} {counts[name]:>4} resources  {value:6.3f} calls/resource")
        print("\ncalls by operation (-n 1): " + json.dumps(runs[0]["summary"]["api_calls"]["by_operation"]))


if __name__ == "__main__":
    main()
