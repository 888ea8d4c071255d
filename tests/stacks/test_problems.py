"""Bad input: one clear problem with file and line for what is affected; everything else resolves."""

from __future__ import annotations

import pytest

from harness.errors import StackError
from harness.stacks import load

ATMOS = ('base_path: "."\nstacks:\n  base_path: stacks\n  included_paths: ["deploy/**/*"]\n'
         '  name_template: "{{ .vars.stage }}"\n')
GOOD = "vars: {stage: good}\ncomponents: {terraform: {app: {}}}\n"


@pytest.mark.parametrize("name,text,expected,line", [
    ("malformed", "vars: {stage: x\ncomponents: {}\n", "invalid YAML", 2),
    ("not-a-mapping", "- just\n- a list\n", "must be a mapping, not a list", 1),
    ("vars-list", "vars: [a, b]\n", "vars: must be a mapping", 1),
    ("typo-type", "vars: {stage: t}\ncomponents:\n  terrafrom:\n    app: {}\n", "did you mean 'terraform'",
     3),
    ("components-list", "components:\n  terraform: [a]\n", "must be a mapping of component names", 2),
    ("import-map", "import: {a: b}\n", "import must be a list", 1),
    ("list-vs-map", "import: [mixins/zones]\nvars: {stage: z, zones: {a: 1}}\n", "cannot replace the list",
     2),
])
def test_bad_manifest_is_one_error_and_others_still_resolve(make_repo, name, text, expected, line):
    repo = make_repo({"stacks/deploy/good.yaml": GOOD, f"stacks/deploy/{name}.yaml": text,
                      "stacks/mixins/zones.yaml": "vars: {zones: [a, b]}\n"}, ATMOS)
    stacks = load(repo)
    assert [i.id for i in stacks] == ["app@good"]
    (error,) = stacks.errors
    assert expected in error.message
    assert error.file.endswith(f"deploy/{name}.yaml") and error.line == line
    assert error.stack_file == f"deploy/{name}"


def test_non_utf8_manifest(make_repo):
    repo = make_repo({"stacks/deploy/good.yaml": GOOD, "stacks/deploy/latin.yaml": b"vars:\n  x: \xe9\n"},
                     ATMOS)
    stacks = load(repo)
    (error,) = stacks.errors
    assert "not UTF-8" in error.message and error.line == 2 and len(stacks) == 1


def test_broken_shared_import_names_each_affected_manifest_and_the_broken_file(make_repo):
    repo = make_repo({
        "stacks/catalog/broken.yaml": "components:\n  terraform:\n    app: {vars: [1, 2}\n",
        "stacks/deploy/a.yaml": "import: [catalog/broken]\nvars: {stage: a}\n",
        "stacks/deploy/b.yaml": "import: [catalog/broken]\nvars: {stage: b}\n",
        "stacks/deploy/good.yaml": GOOD,
    }, ATMOS)
    stacks = load(repo)
    assert [i.id for i in stacks] == ["app@good"]
    assert sorted(p.stack_file for p in stacks.errors) == ["deploy/a", "deploy/b"]
    assert all(p.file.endswith("catalog/broken.yaml") and p.line == 3 for p in stacks.errors)


def test_duplicate_stack_names_from_two_files_are_errors_for_both(make_repo):
    repo = make_repo({
        "stacks/deploy/one.yaml":
            "vars: {stage: same}\ncomponents: {terraform: {app: {vars: {v: 1}}, x: {}}}",
        "stacks/deploy/two.yaml":
            "vars: {stage: same}\ncomponents: {terraform: {app: {vars: {v: 2}}, y: {}}}",
        "stacks/deploy/mixin-only.yaml": "import: [deploy/one]\n",
    }, ATMOS)
    stacks = load(repo)
    # x and y are different instances of the same stack: fine; identical app definitions would be too
    assert sorted(i.id for i in stacks) == ["x@same", "y@same"]
    errors = [p for p in stacks.errors if "duplicate" in p.message]
    assert sorted(p.stack_file for p in errors) == ["deploy/mixin-only", "deploy/one", "deploy/two"]
    assert all(p.instance == "app@same" for p in errors)


def test_identical_definitions_from_two_manifests_are_not_duplicates(make_repo):
    repo = make_repo({
        "stacks/deploy/one.yaml": "vars: {stage: same}\ncomponents: {terraform: {app: {}}}\n",
        "stacks/deploy/two.yaml": "vars: {stage: same}\ncomponents: {terraform: {app: {}}}\n",
    }, ATMOS)
    stacks = load(repo)
    assert stacks.errors == () and [i.id for i in stacks] == ["app@same"]


def test_load_raises_only_when_nothing_can_be_resolved(tmp_path, make_repo):
    with pytest.raises(StackError, match=r"no atmos\.yaml") as err:
        load(tmp_path)
    assert err.value.hint and "--stacks-repo" in err.value.hint
    with pytest.raises(StackError, match="invalid YAML") as err:
        load(make_repo({}, "stacks: [\n"))
    assert err.value.line is not None
    with pytest.raises(StackError, match="no stack manifests"):
        load(make_repo({"stacks/catalog/x.yaml": "vars: {}\n"}, ATMOS))
    with pytest.raises(StackError, match="list_merge_strategy"):
        load(make_repo({"stacks/deploy/a.yaml": GOOD}, ATMOS + "settings: {list_merge_strategy: zip}\n"))
    with pytest.raises(StackError, match="not a folder"):
        load(make_repo({}, 'stacks:\n  base_path: nowhere\n'))


def test_problems_for_an_instance_that_could_not_be_resolved(make_repo):
    repo = make_repo({"stacks/deploy/x.yaml": """
        vars: {stage: x}
        components: {terraform: {bad: {metadata: {inherits: [nope]}}, good: {}}}
    """}, ATMOS)
    stacks = load(repo)
    assert "bad@x" not in stacks and "good@x" in stacks
    (problem,) = stacks.problems_for("bad@x")
    assert problem.severity == "error" and stacks.problems_for("good@x") == ()
