"""Which files of a closure reach which component (the input of a precise what-if)."""

from __future__ import annotations

from harness.stacks.contributions import EVERY_TYPE, OPAQUE, Contributors, FileRole, role_of


def test_role_of_separates_global_sections_from_component_definitions():
    role = role_of({"import": ["catalog/vpc"], "components": {"terraform": {"vpc": {}, "app": None},
                                                              "helmfile": {"nginx": {}}}})
    assert role == FileRole(frozenset(), frozenset({("terraform", "vpc"), ("terraform", "app"),
                                                    ("helmfile", "nginx")}))
    assert role_of({"terraform": {"vars": {"a": 1}}}).reaches == {"terraform"}
    assert role_of({"vars": {"a": 1}, "name": "dev"}).reaches == {EVERY_TYPE}


def test_unclassifiable_files_reach_everything():
    assert role_of({"components": {"terraform": {"{{ .vars.name }}": {}}}}) == OPAQUE
    assert role_of({"components": {"terraform": {"vpc": {}}}}, template_unsupported=True) == OPAQUE


def test_contributors_keep_merge_order_and_follow_bases():
    files = ("/s/catalog/base.yaml", "/s/mixins/tf.yaml", "/s/catalog/api.yaml", "/s/deploy/dev.yaml")
    roles = [(files[0], role_of({"components": {"terraform": {"base": {}}}})),
             (files[1], role_of({"terraform": {"backend_type": "s3"}})),
             (files[2], role_of({"components": {"terraform": {"api": {}}}})),
             (files[3], role_of({"components": {"terraform": {"api": {}, "db": {}}, "helmfile": {"api": {}}}}))]
    contributors = Contributors(files, roles)
    assert contributors.of("terraform", ("api", "base")) == files
    assert contributors.of("terraform", ("db",)) == (files[1], files[3])
    assert contributors.of("helmfile", ("api",)) == (files[3],)
