"""Imports and discovery: paths, extensions, globs, contexts, skip_if_missing, errors and caching."""

from __future__ import annotations

from harness.stacks import load
from harness.stacks.atmos_config import load_atmos_config
from harness.stacks.manifest import ImportGraph, discover_stack_files, glob_match
from harness.stacks.yaml_loader import ManifestParser

ATMOS_NAMED_BY_STAGE = """
base_path: "."
stacks:
  base_path: stacks
  included_paths: ["deploy/**/*"]
  excluded_paths: ["**/_defaults.yaml", "**/skip-*"]
  name_template: "{{ .vars.stage }}"
"""


def test_relative_and_base_path_imports_with_optional_extension(make_repo):
    repo = make_repo({
        "stacks/catalog/app.yml": "components: {terraform: {app: {vars: {from: catalog}}}}\n",
        "stacks/deploy/team/_defaults.yaml": "vars: {team: core, order: defaults}\n",
        "stacks/deploy/team/dev.yaml": "import: [./_defaults, catalog/app]\nvars: {stage: dev, order: own}\n",
    }, ATMOS_NAMED_BY_STAGE)
    app = load(repo).get("app@dev")
    assert app.vars == {"team": "core", "order": "own", "stage": "dev", "from": "catalog"}
    assert app.imports == ("catalog/app", "deploy/team/_defaults")


def test_imports_merge_in_order_later_wins_and_own_content_last(make_repo):
    repo = make_repo({
        "stacks/mixins/a.yaml": "vars: {x: a, only_a: 1}\n",
        "stacks/mixins/b.yaml": "import: [mixins/c]\nvars: {x: b}\n",
        "stacks/mixins/c.yaml": "vars: {x: c, only_c: 1}\n",
        "stacks/deploy/dev.yaml": ("import: [mixins/a, mixins/b]\nvars: {stage: dev}\n"
                                   "components: {terraform: {app: {}}}\n"),
    }, ATMOS_NAMED_BY_STAGE)
    assert load(repo).get("app@dev").vars == {"x": "b", "only_a": 1, "only_c": 1, "stage": "dev"}


def test_glob_imports_expand_in_sorted_order(make_repo):
    repo = make_repo({
        "stacks/catalog/svc-2.yaml": "vars: {last: svc-2}\n",
        "stacks/catalog/svc-1.yaml": "vars: {last: svc-1}\n",
        "stacks/catalog/svc-10.yaml": "vars: {last: svc-10}\n",
        "stacks/deploy/dev.yaml": ("import: ['catalog/svc-*']\nvars: {stage: dev}\n"
                                   "components: {terraform: {a: {}}}\n"),
    }, ATMOS_NAMED_BY_STAGE)
    instance = load(repo).get("a@dev")
    assert instance.vars["last"] == "svc-2"
    assert instance.imports == ("catalog/svc-1", "catalog/svc-10", "catalog/svc-2")


def test_import_objects_with_context_and_skip_if_missing(make_repo):
    repo = make_repo({
        "stacks/catalog/app.yaml.tmpl": "components:\n  terraform:\n    app-{{ .flavor }}:\n"
                                        "      vars: {size: '{{ .size }}'}\n",
        "stacks/deploy/dev.yaml": (
            "import:\n  - path: catalog/app\n    context: {flavor: small, size: 1}\n"
            "  - path: catalog/app\n    context: {flavor: big, size: 9}\n"
            "  - path: catalog/not-generated-yet\n    skip_if_missing: true\n"
            "vars: {stage: dev}\n"),
    }, ATMOS_NAMED_BY_STAGE)
    stacks = load(repo)
    assert stacks.errors == ()
    assert stacks.get("app-small@dev").vars["size"] == "1"
    assert stacks.get("app-big@dev").vars["size"] == "9"


def test_missing_import_is_an_error_for_that_manifest_only(make_repo):
    repo = make_repo({
        "stacks/deploy/dev.yaml": "vars: {stage: dev}\ncomponents: {terraform: {a: {}}}\n",
        "stacks/deploy/prod.yaml": ("import:\n  - mixins/nope\nvars: {stage: prod}\n"
                                    "components: {terraform: {a: {}}}\n"),
    }, ATMOS_NAMED_BY_STAGE)
    stacks = load(repo)
    assert [i.id for i in stacks] == ["a@dev"]
    (error,) = stacks.errors
    assert error.stack_file == "deploy/prod" and error.line == 2
    assert error.file.endswith("deploy/prod.yaml") and "mixins/nope" in error.message


def test_import_cycle_is_an_error_naming_the_chain(make_repo):
    repo = make_repo({
        "stacks/mixins/a.yaml": "import: [mixins/b]\n",
        "stacks/mixins/b.yaml": "import: [mixins/a]\n",
        "stacks/deploy/dev.yaml": ("import: [mixins/a]\nvars: {stage: dev}\n"
                                   "components: {terraform: {a: {}}}\n"),
        "stacks/deploy/ok.yaml": "vars: {stage: ok}\ncomponents: {terraform: {a: {}}}\n",
    }, ATMOS_NAMED_BY_STAGE)
    stacks = load(repo)
    assert [i.id for i in stacks] == ["a@ok"]
    (error,) = stacks.errors
    assert "import cycle: mixins/a -> mixins/b -> mixins/a" in error.message


def test_a_manifest_importing_itself_is_an_error(make_repo):
    repo = make_repo({"stacks/deploy/dev.yaml": "import: [deploy/dev]\nvars: {stage: dev}\n"},
                     ATMOS_NAMED_BY_STAGE)
    (error,) = load(repo).errors
    assert "imports itself" in error.message


def test_included_and_excluded_paths_and_stack_keys(make_repo):
    repo = make_repo({
        "stacks/deploy/a/dev.yaml": "vars: {stage: dev}\n",
        "stacks/deploy/a/_defaults.yaml": "vars: {}\n",
        "stacks/deploy/a/skip-me.yaml": "vars: {}\n",
        "stacks/deploy/notes.txt": "not yaml\n",
        "stacks/catalog/x.yaml": "vars: {}\n",
    }, ATMOS_NAMED_BY_STAGE)
    atmos = load_atmos_config(repo)
    files = discover_stack_files(atmos)
    assert [f.relative_to(atmos.stacks_base_path).as_posix() for f in files] == ["deploy/a/dev.yaml"]


def test_glob_match_supports_doublestar_and_braces():
    assert glob_match("**/_defaults.yaml", "_defaults.yaml")
    assert glob_match("**/_defaults.yaml", "a/b/_defaults.yaml")
    assert not glob_match("deploy/*", "deploy/a/b.yaml")
    assert glob_match("deploy/**/*", "deploy/a/b.yaml")
    assert glob_match("deploy/{dev,prod}.yaml", "deploy/prod.yaml")
    assert not glob_match("deploy/{dev,prod}.yaml", "deploy/qa.yaml")


def test_shared_catalog_is_parsed_and_merged_once(make_repo):
    files = {"stacks/catalog/big.yaml": "components: {terraform: {app: {vars: {a: 1}}}}\n"}
    for n in range(5):
        files[f"stacks/deploy/s{n}.yaml"] = f"import: [catalog/big]\nvars: {{stage: s{n}}}\n"
    repo = make_repo(files, ATMOS_NAMED_BY_STAGE)
    atmos = load_atmos_config(repo)
    parser = ManifestParser()
    graph = ImportGraph(atmos, parser)
    nodes = [graph.node(path) for path in discover_stack_files(atmos)]
    assert parser.files_read == 6
    catalog_nodes = {id(n.children[0]) for n in nodes}
    assert len(catalog_nodes) == 1
    # the catalog's component map is shared by every stack's closure, not copied
    shared = {id(n.config["components"]["terraform"]["app"]) for n in nodes}
    assert len(shared) == 1


def test_errors_deep_in_the_import_tree_name_the_chain(make_repo):
    repo = make_repo({
        "stacks/mixins/a.yaml": "import: [mixins/b]\n",
        "stacks/mixins/b.yaml": "vars: {x: 1}\nimport: [mixins/gone]\n",
        "stacks/deploy/dev.yaml": "import: [mixins/a]\nvars: {stage: dev}\n",
        "stacks/deploy/prod.yaml": "import: [mixins/b]\nvars: {stage: prod}\n",
    }, ATMOS_NAMED_BY_STAGE)
    errors = {p.stack_file: p for p in load(repo).errors}
    assert "(imports deploy/dev -> mixins/a -> mixins/b)" in errors["deploy/dev"].message
    assert "(imports deploy/prod -> mixins/b)" in errors["deploy/prod"].message
    assert all(p.file.endswith("mixins/b.yaml") and p.line == 2 for p in errors.values())
