"""End-to-end behaviour of `harness.stacks.load` on a small repository."""

from __future__ import annotations

from harness.stacks import load

VPC_REPO = {
    "stacks/catalog/vpc.yaml": """
        components:
          terraform:
            vpc/defaults:
              metadata: {type: abstract, component: vpc}
              vars: {cidr: 10.0.0.0/16, tags: {team: net}}
            vpc:
              metadata: {component: vpc, inherits: [vpc/defaults]}
              vars: {tags: {layer: base}}
    """,
    "stacks/deploy/_defaults.yaml": """
        vars: {tenant: core}
        terraform:
          backend_type: s3
          backend:
            s3: {bucket: tfstate, key: terraform.tfstate, dynamodb_table: locks, region: us-east-2}
    """,
    "stacks/deploy/dev.yaml": """
        import: [deploy/_defaults, catalog/vpc]
        vars: {environment: ue2, stage: dev}
        components:
          terraform:
            vpc:
              vars: {cidr: 10.1.0.0/16}
              settings: {depends_on: {1: {component: dns}}}
            dns: {}
    """,
}


def test_basic_repository_resolves_instances_with_backend_and_dependencies(make_repo):
    stacks = load(make_repo(VPC_REPO))
    assert stacks.errors == ()
    vpc = stacks.get("vpc@core-ue2-dev")
    assert vpc is not None
    assert vpc.vars["cidr"] == "10.1.0.0/16"
    assert vpc.vars["tags"] == {"team": "net", "layer": "base"}
    assert vpc.inheritance == ("vpc/defaults",)
    assert vpc.workspace == "core-ue2-dev"
    assert vpc.state_bucket == "tfstate" and vpc.lock_table == "locks"
    assert vpc.state_key == "vpc/core-ue2-dev/terraform.tfstate"
    assert vpc.dependencies == ("dns@core-ue2-dev",)
    assert vpc.region == "us-east-2"
    abstract = stacks.get("vpc/defaults@core-ue2-dev")
    assert abstract is not None and not abstract.deployable
    assert [i.id for i in stacks.deployable] == ["dns@core-ue2-dev", "vpc@core-ue2-dev"]
