"""`stackharness list stacks` and `describe stacks|component`."""

from __future__ import annotations

import json

import yaml

from harness.cli import main

ATMOS = ('base_path: "."\nstacks:\n  base_path: stacks\n  included_paths: ["deploy/**/*"]\n'
         '  name_pattern: "{tenant}-{stage}"\n')
REPO = {
    "stacks/deploy/core/dev.yaml": """
        vars: {tenant: core, stage: dev}
        terraform: {backend_type: s3, backend: {s3: {bucket: tf, key: terraform.tfstate}}}
        settings: {stackharness: {environment_type: dev}}
        components:
          terraform:
            vpc: {vars: {db_password: hunter2secret}}
            app: {settings: {depends_on: {1: {component: vpc}}}}
    """,
    "stacks/deploy/core/prod.yaml": "vars: {tenant: core, stage: prod}\ncomponents: {terraform: {vpc: {}}}\n",
}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_stacks_sorted_one_per_line(make_repo, capsys):
    repo = make_repo(REPO, ATMOS)
    code, out, _ = run(capsys, "list", "stacks", "--repo", str(repo))
    assert code == 0 and out == "core-dev\ncore-prod\n"


def test_list_stacks_with_a_broken_manifest_lists_the_rest_and_exits_2(make_repo, capsys):
    repo = make_repo({**REPO, "stacks/deploy/core/broken.yaml": "vars: [\n"}, ATMOS)
    code, out, err = run(capsys, "list", "stacks", "--stacks-repo", str(repo))
    assert code == 2 and out == "core-dev\ncore-prod\n"
    assert "deploy/core/broken.yaml:2" in err and "invalid YAML" in err


def test_describe_stacks_json_shape_with_our_keys_and_redaction(make_repo, capsys):
    repo = make_repo(REPO, ATMOS)
    code, out, _ = run(capsys, "describe", "stacks", "--format", "json", "--stacks-repo", str(repo))
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"core-dev", "core-prod"}
    app = data["core-dev"]["components"]["terraform"]["app"]
    assert app["stackharness"] == {"id": "app@core-dev", "environment_type": "dev",
                                   "state_key": "app/core-dev/terraform.tfstate",
                                   "dependencies": ["vpc@core-dev"]}
    assert app["metadata"] == {} and app["workspace"] == "core-dev" and app["backend"]["bucket"] == "tf"
    assert "hunter2secret" not in out


def test_describe_stacks_filters_and_yaml_default(make_repo, capsys):
    repo = make_repo(REPO, ATMOS)
    code, out, _ = run(capsys, "describe", "stacks", "--stack", "core-dev", "--component", "vpc",
                       "--stacks-repo", str(repo))
    assert code == 0
    data = yaml.safe_load(out)
    assert list(data) == ["core-dev"] and list(data["core-dev"]["components"]["terraform"]) == ["vpc"]
    code, out, _ = run(capsys, "describe", "stacks", "-s", "deploy/core/prod", "--stacks-repo", str(repo))
    assert code == 0 and list(yaml.safe_load(out)) == ["core-prod"]


def test_describe_stacks_unknown_stack_exits_2_with_candidates(make_repo, capsys):
    repo = make_repo(REPO, ATMOS)
    code, out, err = run(capsys, "describe", "stacks", "--stack", "core-dve", "--stacks-repo", str(repo))
    assert code == 2 and out == ""
    assert "'core-dve' not found" in err and "core-dev" in err


def test_describe_component(make_repo, capsys):
    repo = make_repo(REPO, ATMOS)
    code, out, _ = run(capsys, "describe", "component", "app", "-s", "core-dev", "--stacks-repo", str(repo))
    assert code == 0
    section = yaml.safe_load(out)
    assert section["atmos_component"] == "app" and section["stack"] == "core-dev"
    assert section["stackharness"]["id"] == "app@core-dev" and section["imports"] == []


def test_describe_component_unknown_stack_names_it_and_suggests(make_repo, capsys):
    repo = make_repo(REPO, ATMOS)
    code, _, err = run(capsys, "describe", "component", "app", "-s", "deploy/core/dev",
                       "--stacks-repo", str(repo))
    assert code == 2
    assert "stack 'deploy/core/dev' not found" in err and "its stack is named core-dev" in err
    code, _, err = run(capsys, "describe", "component", "app", "-s", "core-prd", "--stacks-repo", str(repo))
    assert code == 2 and "closest stacks: core-prod" in err
    code, _, err = run(capsys, "describe", "component", "ap", "-s", "core-dev", "--stacks-repo", str(repo))
    assert code == 2 and "component 'ap' not found" in err and "app" in err


def test_describe_component_of_a_broken_instance_reports_its_error(make_repo, capsys):
    repo = make_repo({"stacks/deploy/x.yaml": """
        vars: {tenant: t, stage: s}
        components: {terraform: {bad: {metadata: {inherits: [nope]}}, good: {}}}
    """}, ATMOS)
    code, out, err = run(capsys, "describe", "component", "bad", "-s", "t-s", "--stacks-repo", str(repo))
    assert code == 2 and out == "" and "'nope'" in err and "deploy/x.yaml:3" in err
    code, out, _ = run(capsys, "describe", "component", "good", "-s", "t-s", "--stacks-repo", str(repo))
    assert code == 0 and "good@t-s" in out


def test_missing_repository_is_one_line_and_exit_2(tmp_path, capsys):
    code, out, err = run(capsys, "list", "stacks", "--stacks-repo", str(tmp_path))
    assert code == 2 and out == "" and err.count("\n") == 1 and "no atmos.yaml" in err


def test_yaml_output_repeats_shared_subtrees_instead_of_aliasing_them(make_repo, capsys):
    repo = make_repo({"stacks/deploy/x.yaml": """
        vars: {tenant: t, stage: s, tags: {a: 1}}
        settings: {shared: {deep: {value: 1}}}
        components: {terraform: {one: {}, two: {}}}
    """}, ATMOS)
    code, out, _ = run(capsys, "describe", "stacks", "--stacks-repo", str(repo))
    assert code == 0 and "&id" not in out and "*id" not in out
    assert out.count("deep:") == 2


def test_list_stacks_ignores_the_dependencies_of_an_abstract_component(make_repo, capsys):
    repo = make_repo({**REPO, "stacks/deploy/core/dev.yaml": REPO["stacks/deploy/core/dev.yaml"] + """
            base: {metadata: {type: abstract}, settings: {depends_on: {1: {component: nowhere}}}}
    """}, ATMOS)
    code, out, err = run(capsys, "list", "stacks", "--repo", str(repo))
    assert (code, out, err) == (0, "core-dev\ncore-prod\n", "")


def _repo_with_warnings(make_repo, count: int):
    """REPO plus a manifest with `count` resolution warnings (`!append` on a scalar), one per line."""
    lines = "".join(f"  w{i}: !append x\n" for i in range(count))
    return make_repo({**REPO, "stacks/deploy/core/test.yaml":
                      "components: {terraform: {vpc: {}}}\nvars:\n  tenant: core\n  stage: test\n" + lines}, ATMOS)


def test_resolution_warnings_are_logged_the_first_few_then_one_summary(make_repo, capsys):
    code, out, err = run(capsys, "list", "stacks", "--stacks-repo", str(_repo_with_warnings(make_repo, 1000)))
    assert code == 0 and "core-test" in out
    lines = err.splitlines()
    assert len(lines) == 6, err                 # a large repo does not flood stderr
    assert all(line.startswith("WARNING harness.stacks: ") and "!append applies to a list" in line
               for line in lines[:5])
    assert lines[5] == "WARNING harness.stacks: and 995 more stack warning(s); -v shows all"
    code, _, err = run(capsys, "list", "stacks", "-v", "--stacks-repo", str(_repo_with_warnings(make_repo, 8)))
    assert err.count("!append applies to a list") == 8 and "more stack warning" not in err


def test_resolution_warnings_follow_log_format_json_and_quiet(make_repo, capsys):
    repo = str(_repo_with_warnings(make_repo, 2))
    code, _, err = run(capsys, "list", "stacks", "--log-format", "json", "--stacks-repo", repo)
    entries = [json.loads(line) for line in err.splitlines()]
    assert code == 0 and len(entries) == 2
    assert all(e["level"] == "WARNING" and e["logger"] == "harness.stacks" and "test.yaml:" in e["message"]
               for e in entries)
    code, _, err = run(capsys, "list", "stacks", "-q", "--stacks-repo", repo)
    assert err == "WARNING harness.stacks: 2 stack warning(s) while resolving stacks; -v shows them\n"
    code, _, err = run(capsys, "list", "stacks", "-qq", "--stacks-repo", repo)
    assert code == 0 and err == ""
