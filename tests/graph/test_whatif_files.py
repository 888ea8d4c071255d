"""What-if on changed files of a real (loaded) repository: only the instances a file reaches are affected."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.stacks import load
from harness.whatif import ChangeSet, Reason, affected_by_files, what_if
from tests.atmos import atmos_yaml
from tests.graph.helpers import write_repo

# dev imports every catalog and a region mixin and sets its own vars; prod imports vpc and app and
# only defines app itself (its vars come from a mixin). api and web inherit the abstract service-base;
# worker inherits api with the legacy `component:` attribute.
REPO = {
    "atmos.yaml": atmos_yaml(name_pattern="{stage}"),
    "stacks/catalog/vpc.yaml": "components:\n  terraform:\n    vpc:\n      vars: {cidr: 10.0.0.0/16}\n",
    "stacks/catalog/app.yaml": "components:\n  terraform:\n    app:\n      vars: {replicas: 2}\n",
    "stacks/catalog/base.yaml": """\
components:
  terraform:
    service-base:
      metadata: {type: abstract, component: service}
      vars: {size: small}
""",
    "stacks/catalog/service.yaml": """\
components:
  terraform:
    api:
      metadata: {component: service, inherits: [service-base]}
    web:
      metadata: {component: service, inherits: [service-base]}
""",
    "stacks/mixins/region.yaml": "vars: {region: us-east-1}\n",
    "stacks/mixins/prod.yaml": "vars: {stage: prod}\n",
    "stacks/deploy/dev.yaml": """\
import: [catalog/vpc, catalog/app, catalog/base, catalog/service, mixins/region]
vars: {stage: dev}
components:
  terraform:
    worker:
      component: api
""",
    "stacks/deploy/prod.yaml": """\
import: [mixins/prod, catalog/vpc, catalog/app]
components:
  terraform:
    app:
      vars: {replicas: 3}
""",
    "components/terraform/vpc/main.tf": "# vpc\n",
    "components/terraform/app/main.tf": "# app\n",
    "components/terraform/service/main.tf": "# service\n",
}
DEV = ["api@dev", "app@dev", "vpc@dev", "web@dev", "worker@dev"]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "repo", REPO)


def affected(repo: Path, *files: str) -> list[str]:
    stacks = load(repo)
    assert not stacks.errors
    reasons, _ = affected_by_files(stacks, files)
    return sorted(reasons)


def test_catalog_file_affects_only_the_components_it_defines(repo):
    assert affected(repo, "stacks/catalog/vpc.yaml") == ["vpc@dev", "vpc@prod"]


def test_mixin_with_global_vars_affects_every_component_of_the_stacks_importing_it(repo):
    assert affected(repo, "stacks/mixins/region.yaml") == DEV
    assert affected(repo, "stacks/mixins/prod.yaml") == ["app@prod", "vpc@prod"]


def test_base_component_file_affects_the_components_inheriting_from_it(repo):
    assert affected(repo, "stacks/catalog/base.yaml") == ["api@dev", "web@dev", "worker@dev"]
    assert affected(repo, "stacks/catalog/service.yaml") == ["api@dev", "web@dev", "worker@dev"]


def test_stack_manifest_affects_the_components_it_defines_or_all_with_global_sections(repo):
    assert affected(repo, "stacks/deploy/prod.yaml") == ["app@prod"]
    assert affected(repo, "stacks/deploy/dev.yaml") == DEV


def test_atmos_yaml_affects_everything(repo):
    stacks = load(repo)
    reasons, unmatched = affected_by_files(stacks, ["atmos.yaml"])
    assert sorted(reasons) == sorted(i.id for i in stacks.deployable) and unmatched == ()
    assert reasons["vpc@prod"] == [Reason("file", "atmos.yaml")]


def test_terraform_folder_affects_the_instances_using_it(repo):
    assert affected(repo, "components/terraform/service/main.tf") == ["api@dev", "web@dev", "worker@dev"]


def test_file_contributing_to_nothing_is_unmatched(repo):
    (repo / "stacks/mixins/empty.yaml").write_text("import: [mixins/region]\n")
    (repo / "stacks/deploy/prod.yaml").write_text(REPO["stacks/deploy/prod.yaml"].replace(
        "[mixins/prod,", "[mixins/prod, mixins/empty,"))
    reasons, unmatched = affected_by_files(load(repo), ["stacks/mixins/empty.yaml"])
    assert reasons == {} and unmatched == ("stacks/mixins/empty.yaml",)


def test_deleted_file_falls_back_to_the_base_import_closures(repo, tmp_path):
    base_dir = shutil.copytree(repo, tmp_path / "base")
    (repo / "stacks/mixins/region.yaml").unlink()
    (repo / "stacks/deploy/dev.yaml").write_text(REPO["stacks/deploy/dev.yaml"].replace(", mixins/region", ""))
    current, base = load(repo), load(base_dir)
    result = what_if(current, ChangeSet(files=("stacks/mixins/region.yaml",)), base=base)
    assert sorted(result.affected) == DEV
    assert all(Reason("file", "stacks/mixins/region.yaml") in result.affected[i] for i in DEV)
    assert result.unmatched_files == ()
    assert affected_by_files(current, ["stacks/mixins/region.yaml"])[1] == ("stacks/mixins/region.yaml",)
