"""Inheritance (legacy `component:` and `metadata.inherits`), metadata rules, precedence, overrides."""

from __future__ import annotations

from harness.stacks import load
from tests.atmos import atmos_yaml


def atmos(extra: str = "") -> str:
    return atmos_yaml(name_template="{{ .vars.stage }}", exclude_defaults=False, extra=extra)


def test_inherits_left_to_right_each_base_after_its_own_bases(make_repo):
    repo = make_repo({"stacks/deploy/dev.yaml": """
        vars: {stage: dev}
        components:
          terraform:
            root: {metadata: {type: abstract}, vars: {a: root, b: root, c: root, d: root}}
            left: {metadata: {type: abstract, inherits: [root]}, vars: {a: left, b: left}}
            right: {metadata: {type: abstract}, vars: {a: right}}
            app:
              metadata: {component: app, inherits: [left, right]}
              vars: {d: own}
    """}, atmos())
    app = load(repo).get("app@dev")
    assert app.vars == {"stage": "dev", "a": "right", "b": "left", "c": "root", "d": "own"}
    assert app.inheritance == ("right", "left", "root")
    assert app.deployable and not load(repo).get("left@dev").deployable


def test_legacy_component_attribute_is_a_base_when_defined_otherwise_the_folder(make_repo):
    repo = make_repo({
        "components/terraform/network/vpc/main.tf": "",
        "stacks/deploy/dev.yaml": """
            vars: {stage: dev}
            components:
              terraform:
                base: {vars: {size: 1, zone: a}, command: /usr/bin/tofu}
                derived: {component: base, vars: {size: 2}, command: /usr/bin/tf}
                derived2: {component: derived}
                plain: {component: network/vpc, vars: {x: 1}}
        """}, atmos())
    stacks = load(repo)
    derived2 = stacks.get("derived2@dev")
    assert derived2.vars == {"stage": "dev", "size": 2, "zone": "a"}
    assert derived2.inheritance == ("derived", "base")
    assert derived2.terraform_component == "base"
    # command, backend_type: from the base merged last (Atmos), here `derived`
    assert derived2.section["command"] == "/usr/bin/tf"
    plain = stacks.get("plain@dev")
    assert plain.terraform_component == "network/vpc" and plain.inheritance == ()
    assert plain.component_path.endswith("components/terraform/network/vpc")


def test_precedence_globals_then_terraform_then_bases_then_component_then_overrides(make_repo):
    repo = make_repo({
        "stacks/catalog/app.yaml": """
            components:
              terraform:
                app/base: {metadata: {type: abstract}, vars: {level: base, b: base}}
                app:
                  metadata: {inherits: [app/base]}
                  vars: {level: component, c: component}
        """,
        "stacks/deploy/dev.yaml": """
            import: [catalog/app]
            vars: {stage: dev, level: global, g: global}
            terraform:
              vars: {level: terraform, t: terraform}
              overrides:
                vars: {o: override, c: override}
        """}, atmos())
    app = load(repo).get("app@dev")
    assert app.vars == {"stage": "dev", "level": "component", "g": "global", "t": "terraform", "b": "base",
                        "c": "override", "o": "override"}
    assert app.section["overrides"] == {"vars": {"o": "override", "c": "override"}}


def test_overrides_apply_to_the_manifest_and_its_imports_only_and_the_importer_wins(make_repo):
    repo = make_repo({
        "stacks/catalog/app.yaml": "components: {terraform: {app: {vars: {x: catalog}}}}\n",
        "stacks/teams/net.yaml": """
            import: [catalog/app]
            terraform: {overrides: {vars: {team: net, x: team}}}
        """,
        "stacks/deploy/dev.yaml": """
            import: [teams/net]
            vars: {stage: dev}
            overrides: {vars: {x: stack}}
            components: {terraform: {own: {}}}
        """,
        "stacks/deploy/prod.yaml": "import: [catalog/app]\nvars: {stage: prod}\n",
    }, atmos())
    stacks = load(repo)
    dev = stacks.get("app@dev")
    assert dev.vars["x"] == "stack" and dev.vars["team"] == "net"
    # As in Atmos (`processYAMLConfigFileWithContext`), overrides collected from an import also reach
    # the importing manifest's own components.
    assert stacks.get("own@dev").vars == {"stage": "dev", "x": "stack", "team": "net"}
    assert stacks.get("app@prod").vars == {"stage": "prod", "x": "catalog"}


def test_overrides_of_an_earlier_import_reach_later_imports_but_not_earlier_ones(make_repo):
    repo = make_repo({
        "stacks/teams/a.yaml": "components: {terraform: {a: {}}}\nterraform: {overrides: {vars: {by: a}}}\n",
        "stacks/teams/b.yaml": "components: {terraform: {b: {}}}\nterraform: {overrides: {vars: {by: b}}}\n",
        "stacks/teams/c.yaml": "components: {terraform: {c: {}}}\n",
        "stacks/deploy/dev.yaml": "import: [teams/c, teams/a, teams/b]\nvars: {stage: dev}\n",
    }, atmos())
    stacks = load(repo)
    assert "by" not in stacks.get("c@dev").vars
    assert stacks.get("a@dev").vars["by"] == "a"
    assert stacks.get("b@dev").vars["by"] == "b"


def test_metadata_is_inherited_except_type_and_inherits(make_repo):
    repo = make_repo({"stacks/deploy/dev.yaml": """
        vars: {stage: dev}
        components:
          terraform:
            base:
              metadata: {type: abstract, component: app, terraform_workspace: shared, custom: base}
              settings: {spacelift: {workspace_enabled: true, autodeploy: true}}
            app: {metadata: {inherits: [base], custom: own}}
            unlocked: {metadata: {enabled: false, locked: true}}
    """}, atmos())
    stacks = load(repo)
    app = stacks.get("app@dev")
    assert app.metadata == {"component": "app", "terraform_workspace": "shared", "custom": "own",
                            "inherits": ["base"]}
    assert app.deployable and not app.abstract
    assert app.workspace == "shared"
    # Atmos removes spacelift.workspace_enabled from abstract components only
    assert stacks.get("base@dev").settings["spacelift"] == {"autodeploy": True}
    assert app.settings["spacelift"] == {"workspace_enabled": True, "autodeploy": True}
    assert app.section["spacelift_stack"] == "dev-app"
    assert "spacelift_stack" not in stacks.get("base@dev").section
    disabled = stacks.get("unlocked@dev")
    assert not disabled.enabled and disabled.locked and not disabled.deployable


def test_metadata_inheritance_can_be_switched_off(make_repo):
    repo = make_repo({"stacks/deploy/dev.yaml": """
        vars: {stage: dev}
        components:
          terraform:
            base: {metadata: {type: abstract, custom: base}}
            app: {metadata: {inherits: [base]}}
    """}, atmos("  inherit:\n    metadata: false\n"))
    assert load(repo).get("app@dev").metadata == {"inherits": ["base"]}


def test_inheritance_cycle_and_missing_base_are_errors_for_those_components_only(make_repo):
    repo = make_repo({"stacks/deploy/dev.yaml": """
        vars: {stage: dev}
        components:
          terraform:
            a: {metadata: {inherits: [b]}}
            b: {metadata: {inherits: [a]}}
            c:
              metadata:
                inherits: [nothere]
            d: {component: also-not-there}
            ok: {}
    """}, atmos())
    stacks = load(repo)
    assert [i.id for i in stacks] == ["ok@dev"]
    messages = {p.instance: p for p in stacks.errors}
    assert "inheritance cycle: a -> b -> a" in messages["a@dev"].message
    assert "'nothere'" in messages["c@dev"].message and messages["c@dev"].line == 9  # the inherits line
    assert "neither a component of this stack nor a folder" in messages["d@dev"].message


def test_list_merge_strategy_globally_and_per_component(make_repo):
    files = {"stacks/deploy/dev.yaml": """
        vars: {stage: dev, zones: [a]}
        components:
          terraform:
            base: {metadata: {type: abstract}, vars: {zones: [b]}}
            app: {metadata: {inherits: [base]}, vars: {zones: [c]}}
            merged:
              metadata: {inherits: [base]}
              settings: {list_merge_strategy: append}
              vars: {zones: [c]}
    """}
    stacks = load(make_repo(files, atmos()))
    assert stacks.get("app@dev").vars["zones"] == ["c"]
    assert stacks.get("merged@dev").vars["zones"] == ["a", "b", "c"]
    stacks = load(make_repo(files, atmos() + "settings:\n  list_merge_strategy: append\n"))
    assert stacks.get("app@dev").vars["zones"] == ["a", "b", "c"]


def test_backend_type_and_command_last_non_empty_wins(make_repo):
    repo = make_repo({"stacks/deploy/dev.yaml": """
        vars: {stage: dev}
        terraform:
          command: tofu
          backend_type: s3
          backend: {s3: {bucket: b1}, local: {path: x.tfstate}}
        components:
          terraform:
            base: {metadata: {type: abstract}, backend_type: local}
            app: {metadata: {inherits: [base]}}
            s3app: {}
    """}, atmos())
    stacks = load(repo)
    app = stacks.get("app@dev")
    assert app.backend_type == "local" and app.backend == {"path": "x.tfstate"}
    assert app.section["command"] == "tofu" and app.state_key is None
    assert stacks.get("s3app@dev").backend["bucket"] == "b1"
