"""Where instances live and their environment types."""

from __future__ import annotations

import logging

from harness.config import EnvironmentRules, HarnessConfig
from harness.stacks import load

ATMOS = ('base_path: "."\nstacks:\n  base_path: stacks\n  included_paths: ["deploy/**/*"]\n'
         '  name_pattern: "{tenant}-{stage}"\n')

REPO = {
    "stacks/deploy/prod.yaml": """
        vars: {tenant: core, stage: prod}
        settings: {stackharness: {account_id: "111111111111", role_arn: "arn:aws:iam::111111111111:role/ro"}}
        components:
          terraform:
            explicit: {settings: {stackharness: {environment_type: staging, region: eu-central-1}}}
            by-vars: {vars: {region: eu-west-1}}
            by-provider: {providers: {aws: {region: ap-south-1}}}
    """,
    "stacks/deploy/sbx.yaml": """
        vars: {tenant: lab, stage: sbx}
        terraform: {backend_type: s3, backend: {s3: {bucket: b, region: us-west-2}}}
        components: {terraform: {by-backend: {}}}
    """,
    "stacks/deploy/misc.yaml": """
        vars: {tenant: misc, stage: build, account_name: tooling}
        components: {terraform: {plain: {}}}
    """,
}


def config(tmp_path, **rules) -> HarnessConfig:
    strict = rules.pop("strict", False)
    return HarnessConfig(stacks_repo=tmp_path, default_region="us-east-2",
                         environments=EnvironmentRules(**rules),
                         strict_environments=strict)


def test_region_account_role_precedence(make_repo, tmp_path):
    stacks = load(make_repo(REPO, ATMOS), config(tmp_path))
    explicit = stacks.get("explicit@core-prod")
    assert (explicit.region, explicit.account_id, explicit.role_arn) == (
        "eu-central-1", "111111111111", "arn:aws:iam::111111111111:role/ro")
    assert stacks.get("by-vars@core-prod").region == "eu-west-1"
    assert stacks.get("by-provider@core-prod").region == "ap-south-1"
    assert stacks.get("by-backend@lab-sbx").region == "us-west-2"
    assert stacks.get("plain@misc-build").region == "us-east-2"


def test_environment_type_settings_then_stack_globs_then_accounts(make_repo, tmp_path):
    rules = {"stacks": {"lab-*": "sandbox", "*-prod": "prod"}, "accounts": {"111111111111": "dev"}}
    stacks = load(make_repo(REPO, ATMOS), config(tmp_path, **rules))
    assert stacks.get("explicit@core-prod").environment_type == "staging"
    assert stacks.get("by-vars@core-prod").environment_type == "prod"
    assert stacks.get("by-backend@lab-sbx").environment_type == "sandbox"
    assert stacks.get("plain@misc-build").environment_type is None
    by_account = load(make_repo(REPO, ATMOS), config(tmp_path, accounts={"111111111111": "dev"}))
    assert by_account.get("by-vars@core-prod").environment_type == "dev"
    assert [i.id for i in by_account.select(environment_types=["staging"])] == ["explicit@core-prod"]


def test_guessing_is_off_by_default_and_warns_per_instance_when_on(make_repo, tmp_path, caplog):
    repo = make_repo(REPO, ATMOS)
    assert load(repo, config(tmp_path)).get("by-vars@core-prod").environment_type is None
    with caplog.at_level(logging.WARNING, logger="harness.stacks"):
        stacks = load(repo, config(tmp_path, guess_from_account_name=True))
    assert stacks.get("by-vars@core-prod").environment_type == "prod"
    assert stacks.get("by-backend@lab-sbx").environment_type == "sandbox"
    assert stacks.get("plain@misc-build").environment_type is None
    guessed = [r for r in caplog.records if r.levelno == logging.WARNING and "guessed" in r.getMessage()]
    assert sorted(r.getMessage().split(":")[0] for r in guessed) == [
        "by-backend@lab-sbx", "by-provider@core-prod", "by-vars@core-prod"]


def test_strict_environments_makes_unclassified_instances_errors(make_repo, tmp_path):
    stacks = load(make_repo(REPO, ATMOS), config(tmp_path, strict=True))
    assert {p.instance for p in stacks.errors} == {"by-vars@core-prod", "by-provider@core-prod",
                                                   "by-backend@lab-sbx", "plain@misc-build"}
    assert all("strict_environments" in p.message for p in stacks.errors)
    assert len(stacks) == 5
