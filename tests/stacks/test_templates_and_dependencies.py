"""The template subset in sections, and dependency resolution."""

from __future__ import annotations

import pytest

from harness.stacks import load
from harness.stacks.templates import TemplateMissingKey, go_format, render

ATMOS = ('base_path: "."\nstacks:\n  base_path: stacks\n  included_paths: ["deploy/**/*"]\n'
         '  name_pattern: "{environment}-{stage}"\n')


@pytest.mark.parametrize("text,expected", [
    ("{{ .vars.a }}", "1"),
    ("x-{{.vars.a}}-{{ .settings.b.c }}!", "x-1-deep!"),
    ("  {{- .vars.a -}}  y", "1y"),
    ("{{ .vars.flag }} {{ .vars.none }}", "true <no value>"),
    ("{{ .vars.m }} {{ .vars.l }}", "map[k:v] [1 two]"),
])
def test_render_subset(text, expected):
    data = {"vars": {"a": 1, "flag": True, "none": None, "m": {"k": "v"}, "l": [1, "two"]},
            "settings": {"b": {"c": "deep"}}}
    result = render(text, data)
    assert result.supported and result.text == expected


@pytest.mark.parametrize("text", ['{{ .vars.a | upper }}', '{{ env "HOME" }}', "{{ if .x }}y{{ end }}",
                                  "{{`{{ .raw }}`}}", "{{ .vars.a }} {{ printf \"%s\" .b }}"])
def test_render_leaves_anything_beyond_the_subset_as_written(text):
    result = render(text, {"vars": {"a": 1}})
    assert not result.supported and result.text == text


def test_render_missing_key():
    with pytest.raises(TemplateMissingKey, match=r"\.vars\.zz"):
        render("{{ .vars.zz }}", {"vars": {}})
    assert go_format(2.0) == "2" and go_format(False) == "false"


def test_section_strings_render_after_merge_and_unsupported_ones_warn_once(make_repo):
    repo = make_repo({"stacks/deploy/dev.yaml": """
        vars: {environment: ue1, stage: dev, label: "{{ .vars.stage }}-{{ .atmos_component }}"}
        settings: {note: '{{ .vars.stage | upper }}'}
        components:
          terraform:
            a: {vars: {ws: "{{ .workspace }}", stack: "{{ .atmos_stack }}"}}
            b: {}
    """}, ATMOS)
    stacks = load(repo)
    a = stacks.get("a@ue1-dev")
    assert a.vars["label"] == "dev-a" and a.vars["ws"] == "ue1-dev" and a.vars["stack"] == "ue1-dev"
    assert stacks.get("b@ue1-dev").vars["label"] == "dev-b"
    assert a.settings["note"] == "{{ .vars.stage | upper }}"
    warnings = [w for w in stacks.warnings if "upper" in w.message]
    assert len(warnings) == 1 and warnings[0].line == 3 and warnings[0].file.endswith("deploy/dev.yaml")


def test_depends_on_context_matching(make_repo):
    common = "components:\n  terraform:\n    vpc: {}\n"
    repo = make_repo({
        "stacks/deploy/ue1-net.yaml": "vars: {environment: ue1, stage: net}\n" + common + """
    hub: {settings: {depends_on: {1: {component: vpc}}}}
""",
        "stacks/deploy/uw2-net.yaml": "vars: {environment: uw2, stage: net}\n" + common + """
    spoke:
      settings:
        depends_on:
          1: {component: vpc}
          2: {component: hub, environment: ue1}
          3: {component: vpc, stack: ue1-net}
          4: {file: some/file.tf}
""",
        "stacks/deploy/uw2-prod.yaml": "vars: {environment: uw2, stage: prod}\n" + common + """
    spoke: {settings: {depends_on: {1: {component: hub, environment: ue1, stage: net}}}}
    broken: {settings: {depends_on: {1: {component: hub}, 2: {component: nothere, stack: x}}}}
""",
    }, ATMOS)
    stacks = load(repo)
    assert stacks.get("hub@ue1-net").dependencies == ("vpc@ue1-net",)
    assert stacks.get("spoke@uw2-net").dependencies == ("vpc@uw2-net", "hub@ue1-net", "vpc@ue1-net")
    assert stacks.get("spoke@uw2-prod").dependencies == ("hub@ue1-net",)
    broken = stacks.get("broken@uw2-prod")
    assert broken.dependencies == () and len(broken.dependency_errors) == 2
    assert {p.instance for p in stacks.errors} == {"broken@uw2-prod"}


def test_dependencies_components_same_stack_by_default_and_templated_stack(make_repo):
    repo = make_repo({"stacks/deploy/dev.yaml": """
        vars: {environment: ue1, stage: dev}
        components:
          terraform:
            vpc: {}
            db:
              dependencies:
                components:
                  - component: vpc
                  - name: vpc
                    stack: "{{ .vars.environment }}-{{ .vars.stage }}"
          helmfile:
            app: {dependencies: {components: [{component: db, kind: terraform}]}}
    """}, ATMOS)
    stacks = load(repo)
    assert stacks.errors == ()
    assert stacks.get("db@ue1-dev").dependencies == ("vpc@ue1-dev",)
    app = stacks.get("app@ue1-dev")
    assert app.component_type == "helmfile" and app.dependencies == ("db@ue1-dev",) and not app.deployable


def test_templates_inside_included_files_are_rendered_too(make_repo):
    repo = make_repo({
        "stacks/data/tags.yaml": "owner: '{{ .vars.stage }}-team'\n",
        "stacks/deploy/dev.yaml": ("vars: {environment: ue1, stage: dev}\n"
                                   "components: {terraform: {app: {vars: {tags: "
                                   "!include ../data/tags.yaml}}}}\n"),
    }, ATMOS)
    assert load(repo).get("app@ue1-dev").vars["tags"] == {"owner": "dev-team"}


def test_abstract_and_disabled_components_get_no_dependencies_and_no_errors(make_repo):
    repo = make_repo({
        "stacks/catalog/app.yaml": """
            components:
              terraform:
                app-defaults:
                  metadata: {type: abstract}
                  settings: {depends_on: {1: {component: nowhere}}}
                  dependencies: {components: [{component: vpc}]}
        """,
        "stacks/deploy/dev.yaml": """
            import: [catalog/app]
            vars: {environment: ue1, stage: dev}
            components:
              terraform:
                vpc: {}
                off-app:
                  metadata: {enabled: false}
                  dependencies: {components: [{component: missing}]}
                app:
                  metadata: {inherits: [app-defaults]}
                  settings: {depends_on: {1: {component: vpc}}}
        """}, ATMOS)
    stacks = load(repo)
    assert stacks.errors == ()
    abstract, disabled = stacks.get("app-defaults@ue1-dev"), stacks.get("off-app@ue1-dev")
    assert abstract.dependencies == () and abstract.dependency_errors == ()
    assert disabled.dependencies == () and disabled.dependency_errors == ()
    assert stacks.get("app@ue1-dev").dependencies == ("vpc@ue1-dev",)


def test_a_dependency_on_itself_is_kept_and_reported_as_a_cycle(make_repo, capsys):
    from harness.cli import main
    from harness.graph import DependencyGraph

    repo = make_repo({"stacks/deploy/dev.yaml": """
        vars: {environment: ue1, stage: dev}
        components:
          terraform:
            vpc: {settings: {depends_on: {1: {component: vpc}}}}
            subnet: {dependencies: {components: [{component: vpc}]}}
            kms: {}
    """}, ATMOS)
    stacks = load(repo)
    assert stacks.errors == () and stacks.get("vpc@ue1-dev").dependencies == ("vpc@ue1-dev",)
    graph = DependencyGraph.build(stacks)
    assert graph.cycles == (("vpc@ue1-dev",),)
    assert graph.blocked == {"vpc@ue1-dev", "subnet@ue1-dev"} and graph.batches() == (("kms@ue1-dev",),)
    assert main(["graph", "--stacks-repo", str(repo), "--format", "json"]) == 1
    assert "cycle: vpc@ue1-dev -> vpc@ue1-dev" in capsys.readouterr().err
