"""Benchmark: native Atmos stack resolution on a generated repository.

The repository: STACKS stack manifests (tenants x regions x stages) with COMPONENTS components each,
three import levels (stack -> tenant defaults -> org defaults -> catalog), inheritance chains of depth
three (component -> <family>/mid -> <family>/base, both abstract) and catalog files shared by every
stack. Every stack manifest also sets a few vars for each of its concrete components, as real stack
manifests do.

Printed: instances resolved, wall time, instances/s, peak memory (max RSS of the resolving process),
the time to only parse every YAML file once with the C loader (`yaml.CSafeLoader`), and the ratio.
Each phase runs in a fresh child process so the figures do not leak into each other.

    .venv/bin/python benchmarks/bench_stacks.py [--stacks 1000] [--components 40] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FAMILIES = 5
TENANTS = ("core", "data", "apps", "edge", "ml", "sec", "ops", "web", "iot", "fin")
REGIONS = (("use1", "us-east-1"), ("use2", "us-east-2"), ("usw1", "us-west-1"), ("usw2", "us-west-2"),
           ("euw1", "eu-west-1"), ("euw2", "eu-west-2"), ("euc1", "eu-central-1"), ("aps1", "ap-south-1"),
           ("apse1", "ap-southeast-1"), ("apne1", "ap-northeast-1"))
STAGES = ("dev", "qa", "test", "uat", "staging", "perf", "demo", "sandbox", "preprod", "prod")


def _families(components: int) -> list[tuple[str, list[str]]]:
    """Family names and their concrete components: each family has 2 abstract bases + concrete ones."""
    concrete_total = components - 2 * FAMILIES
    result = []
    for f in range(FAMILIES):
        count = concrete_total // FAMILIES + (1 if f < concrete_total % FAMILIES else 0)
        result.append((f"fam{f}", [f"fam{f}-svc{i}" for i in range(count)]))
    return result


def generate(root: Path, stacks: int, components: int) -> int:
    """Write the repository; returns the number of YAML files."""
    (root / "components" / "terraform" / "app").mkdir(parents=True, exist_ok=True)
    (root / "atmos.yaml").write_text(
        'base_path: "."\n'
        "components:\n  terraform:\n    base_path: components/terraform\n"
        "stacks:\n  base_path: stacks\n  included_paths: ['deploy/**/*']\n"
        "  excluded_paths: ['**/_defaults.yaml']\n  name_pattern: '{tenant}-{environment}-{stage}'\n")
    st = root / "stacks"
    files = 0

    def write(rel: str, text: str) -> None:
        nonlocal files
        path = st / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        files += 1

    families = _families(components)
    for family, members in families:
        lines = ["components:", "  terraform:",
                 f"    {family}/base:", "      metadata:", "        type: abstract", "        component: app",
                 "      settings:", "        spacelift: {workspace_enabled: true}",
                 f"        team: {family}", "      vars:", "        enabled: true",
                 "        instance_type: t3.micro", "        min_size: 1", "        max_size: 3",
                 "        tags:", f"          family: {family}", "          managed_by: atmos",
                 f"    {family}/mid:", "      metadata:", "        type: abstract",
                 f"        inherits: [{family}/base]", "      vars:", "        max_size: 5",
                 "        subnets: [a, b, c]", "        tags:", "          tier: mid"]
        for member in members:
            lines += [f"    {member}:", "      metadata:", "        component: app",
                      f"        inherits: [{family}/mid]", "      vars:", f"        name: {member}",
                      "        tags:", f"          service: {member}"]
        write(f"catalog/{family}.yaml", "\n".join(lines) + "\n")
    write("orgs/_defaults.yaml",
          "import:\n" + "".join(f"  - catalog/{f}\n" for f, _ in families) +
          "vars:\n  namespace: acme\n  tags:\n    org: acme\n"
          "terraform:\n  backend_type: s3\n  backend:\n    s3:\n      bucket: acme-tfstate\n"
          "      key: terraform.tfstate\n      dynamodb_table: acme-tfstate-lock\n      encrypt: true\n"
          "      region: us-east-1\n"
          "settings:\n  stackharness:\n    account_id: '111111111111'\n")
    for tenant in TENANTS:
        write(f"deploy/{tenant}/_defaults.yaml",
              f"import:\n  - orgs/_defaults\nvars:\n  tenant: {tenant}\n")
    for short, region in REGIONS:
        write(f"mixins/region/{short}.yaml", f"vars:\n  region: {region}\n  environment: {short}\n")
    made = 0
    for tenant in TENANTS:
        for short, _ in REGIONS:
            for stage in STAGES:
                if made >= stacks:
                    break
                made += 1
                lines = ["import:", f"  - deploy/{tenant}/_defaults", f"  - mixins/region/{short}",
                         "vars:", f"  stage: {stage}", "settings:", "  stackharness:",
                         f"    environment_type: {'prod' if stage == 'prod' else 'dev'}",
                         "components:", "  terraform:"]
                for index, (_family, members) in enumerate(families):
                    for n, member in enumerate(members):
                        lines += [f"    {member}:", "      vars:",
                                  f"        cidr: 10.{made % 250}.{(index * 16 + n) % 250}.0/24",
                                  f"        desired: {(made + n) % 4 + 1}",
                                  f"        owner: {tenant}-{stage}",
                                  "        tags:", f"          stack: {tenant}-{short}-{stage}"]
                        if n == 0:
                            lines += ["      settings:", "        depends_on:",
                                      f"          1: {{component: {members[-1]}}}"]
                write(f"deploy/{tenant}/{short}/{stage}.yaml", "\n".join(lines) + "\n")
    return files


def _child_resolve(repo: Path) -> dict:
    from harness.stacks import load
    start = time.perf_counter()
    stack_set = load(repo)
    elapsed = time.perf_counter() - start
    return {"instances": len(stack_set), "errors": len(stack_set.errors), "seconds": elapsed,
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _child_parse(repo: Path, gc_paused: bool = False) -> dict:
    import gc

    import yaml
    paths = sorted(p for p in (repo / "stacks").rglob("*") if p.suffix in (".yaml", ".yml"))
    if gc_paused:
        gc.disable()
    start = time.perf_counter()
    for path in paths:
        yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    elapsed = time.perf_counter() - start
    return {"files": len(paths), "bytes": sum(p.stat().st_size for p in paths), "seconds": elapsed}


def _run_child(phase: str, repo: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--phase", phase, "--repo", str(repo)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stacks", type=int, default=1000)
    parser.add_argument("--components", type=int, default=40)
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    parser.add_argument("--repeat", type=int, default=3, help="runs per phase; the fastest counts")
    parser.add_argument("--phase", choices=("resolve", "parse", "parse-gc-paused"), help=argparse.SUPPRESS)
    parser.add_argument("--repo", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        if args.phase == "resolve":
            result = _child_resolve(args.repo)
        else:
            result = _child_parse(args.repo, gc_paused=args.phase == "parse-gc-paused")
        print(json.dumps(result))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-stacks-") as tmp:
        repo = args.keep or Path(tmp)
        files = generate(repo, args.stacks, args.components)
        parses, paused, resolves = [], [], []
        for _ in range(max(1, args.repeat)):   # interleaved, so load on a shared machine hits all
            parses.append(_run_child("parse", repo))
            paused.append(_run_child("parse-gc-paused", repo))
            resolves.append(_run_child("resolve", repo))
        parse = min(parses, key=lambda r: r["seconds"])
        parse_paused = min(paused, key=lambda r: r["seconds"])
        resolve = min(resolves, key=lambda r: r["seconds"])
    rate = resolve["instances"] / resolve["seconds"]
    print(f"repository: {args.stacks} stacks x {args.components} components, {files} YAML files, "
          f"{parse['bytes'] / 1e6:.1f} MB")
    print(f"resolved:   {resolve['instances']} instances ({resolve['errors']} errors) in "
          f"{resolve['seconds']:.2f} s = {rate:,.0f} instances/s")
    print(f"peak RSS:   {resolve['max_rss_mb']:.0f} MB (resolving process)")
    print(f"parse-only: {parse['seconds']:.2f} s (yaml.CSafeLoader, every file once)")
    print(f"ratio:      {resolve['seconds'] / parse['seconds']:.2f} (resolution / parse-only)")
    print(f"            {resolve['seconds'] / parse_paused['seconds']:.2f} against a parse-only pass that "
          f"also pauses the cyclic GC as load() does ({parse_paused['seconds']:.2f} s)")
    print(f"runs:       best of {max(1, args.repeat)} per phase; all resolve runs: "
          + ", ".join(f"{r['seconds']:.2f}" for r in resolves) + " s; parse runs: "
          + ", ".join(f"{r['seconds']:.2f}" for r in parses) + " s")
    print(f"machine:    {os.cpu_count()} CPUs; figures taken on a shared machine may vary")
    return 0


if __name__ == "__main__":
    sys.exit(main())
