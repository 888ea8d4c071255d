"""Stack names, workspaces, backends and state keys."""

from __future__ import annotations

import pytest

from harness.stacks import load
from harness.stacks.naming import (
    NamingError,
    pattern_name,
    s3_state_key,
    workspace,
)


def atmos(naming: str, extra: str = "") -> str:
    return (f'base_path: "."\nstacks:\n  base_path: stacks\n  included_paths: ["deploy/**/*"]\n{naming}'
            f"{extra}")


PATTERN = '  name_pattern: "{tenant}-{environment}-{stage}"\n'
TEMPLATE = '  name_template: "{{ .vars.tenant }}-{{ .settings.short }}"\n'


def test_name_precedence_manifest_name_template_pattern_file_key(make_repo):
    body = "vars: {tenant: t, environment: ue1, stage: dev}\nsettings: {short: s}\n" \
           "components: {terraform: {app: {}}}\n"
    files = {"stacks/deploy/a/dev.yaml": body, "stacks/deploy/a/named.yaml": "name: explicit\n" + body}
    both = atmos(PATTERN + TEMPLATE)
    assert load(make_repo(files, both)).stacks == ("explicit", "t-s")
    assert load(make_repo(files, atmos(PATTERN))).stacks == ("explicit", "t-ue1-dev")
    assert load(make_repo(files, atmos(""))).stacks == ("deploy/a/dev", "explicit")


def test_name_is_computed_per_component_from_its_merged_vars(make_repo):
    repo = make_repo({"stacks/deploy/dev.yaml": """
        vars: {tenant: core, environment: ue1, stage: dev}
        components:
          terraform:
            app: {}
            dr: {vars: {environment: uw2}}
    """}, atmos(PATTERN))
    assert {i.id for i in load(repo)} == {"app@core-ue1-dev", "dr@core-uw2-dev"}


def test_missing_pattern_value_is_an_error_naming_component_and_file(make_repo):
    repo = make_repo({"stacks/deploy/dev.yaml": """
        vars: {tenant: core, stage: dev}
        components:
          terraform:
            app: {}
            fine: {vars: {environment: ue1}}
    """}, atmos(PATTERN))
    stacks = load(repo)
    assert [i.id for i in stacks] == ["fine@core-ue1-dev"]
    (error,) = stacks.errors
    assert "'app'" in error.message and "vars.environment" in error.message
    assert error.file.endswith("stacks/deploy/dev.yaml") and error.line == 5


def test_template_name_with_unsupported_syntax_is_an_error(make_repo):
    repo = make_repo({"stacks/deploy/dev.yaml": "vars: {stage: dev}\ncomponents: {terraform: {app: {}}}\n"},
                     atmos('  name_template: "{{ .vars.stage | upper }}"\n'))
    (error,) = load(repo).errors
    assert "beyond" in error.message and "--stacks-source atmos" in error.message


def test_pattern_name_tokens():
    assert pattern_name("{tenant}-{stage}", {"tenant": "a", "stage": 3}) == "a-3"
    with pytest.raises(NamingError, match=r"vars\.stage"):
        pattern_name("{tenant}-{stage}", {"tenant": "a", "stage": ""})


@pytest.mark.parametrize("metadata,component,folder,expected", [
    ({}, "vpc", "vpc", "core-dev"),                                  # no base component: the stack name
    ({}, "vpc/dr", "vpc", "core-dev-vpc-dr"),                        # a base: <stack>-<component>, / -> -
    ({"terraform_workspace": "fixed/ws"}, "vpc", "vpc", "fixed-ws"),
    ({"terraform_workspace_pattern": "{tenant}-{stage}-{component}", "terraform_workspace": "x"},
     "vpc", "vpc", "t-dev-vpc"),
    ({"terraform_workspace_template": "{{ .vars.stage }}-tmpl"}, "vpc", "vpc", "dev-tmpl"),
])
def test_workspace_rules(metadata, component, folder, expected):
    vars_ = {"tenant": "t", "stage": "dev"}
    assert workspace(prefix="core-dev", component=component, terraform_component=folder, metadata=metadata,
                     vars_=vars_, section={"vars": vars_}, enabled=True) == expected


def test_workspace_is_default_when_disabled():
    assert workspace(prefix="p", component="c", terraform_component="x",
                     metadata={"terraform_workspace": "w"},
                     vars_={}, section={}, enabled=False) == "default"


def test_s3_state_key():
    backend = {"key": "terraform.tfstate", "workspace_key_prefix": "vpc"}
    assert s3_state_key(backend, "core-dev") == "vpc/core-dev/terraform.tfstate"
    assert s3_state_key(backend, "default") == "terraform.tfstate"
    assert s3_state_key({}, "ws") == "env:/ws/terraform.tfstate"


def test_backend_sub_map_prefix_defaults_and_state_key_on_the_instance(make_repo):
    repo = make_repo({"stacks/deploy/dev.yaml": """
        vars: {tenant: core, environment: ue1, stage: dev}
        terraform:
          backend_type: s3
          backend:
            s3: {bucket: tf, key: terraform.tfstate, dynamodb_table: lock, region: eu-west-1}
            gcs: {bucket: never-shown}
          remote_state_backend:
            s3: {role_arn: arn:aws:iam::1:role/read}
        components:
          terraform:
            net/vpc: {}
            vpc-dr: {metadata: {component: net/vpc}}
            named: {metadata: {name: custom/name}}
            explicit: {backend: {s3: {workspace_key_prefix: mine, use_lockfile: true}}}
    """}, atmos(PATTERN))
    stacks = load(repo)
    vpc = stacks.get("net/vpc@core-ue1-dev")
    assert vpc.backend == {"bucket": "tf", "key": "terraform.tfstate", "dynamodb_table": "lock",
                           "region": "eu-west-1", "workspace_key_prefix": "net-vpc"}
    assert vpc.state_key == "net-vpc/core-ue1-dev/terraform.tfstate"
    assert vpc.section["remote_state_backend"]["role_arn"] == "arn:aws:iam::1:role/read"
    assert vpc.section["remote_state_backend"]["bucket"] == "tf"
    dr = stacks.get("vpc-dr@core-ue1-dev")
    assert dr.workspace == "core-ue1-dev-vpc-dr"
    assert dr.state_key == "net-vpc/core-ue1-dev-vpc-dr/terraform.tfstate"
    assert stacks.get("named@core-ue1-dev").backend["workspace_key_prefix"] == "custom-name"
    explicit = stacks.get("explicit@core-ue1-dev")
    assert explicit.state_key == "mine/core-ue1-dev/terraform.tfstate" and explicit.uses_lockfile


def test_workspaces_disabled_in_atmos_yaml_put_state_at_the_key(make_repo):
    repo = make_repo({"stacks/deploy/dev.yaml": """
        vars: {tenant: core, environment: ue1, stage: dev}
        terraform: {backend_type: s3, backend: {s3: {bucket: tf, key: app.tfstate}}}
        components: {terraform: {app: {}}}
    """}, atmos(PATTERN, "components:\n  terraform:\n    workspaces_enabled: false\n"))
    app = load(repo).get("app@core-ue1-dev")
    assert app.workspace == "default" and app.state_key == "app.tfstate"
