"""Atmos-shaped `describe dependents` / `describe affected` answers on hand-built stack sets."""

from __future__ import annotations

import dataclasses

import pytest

from harness.graph import GraphError
from harness.graph_describe import AtmosDescriber
from tests.graph.helpers import instance, stackset

CONTEXT = {"namespace": "acme", "environment": "ue1", "stage": "dev"}


def platform():
    return (
        instance("vpc@ue1-dev", vars=CONTEXT, component_path="/repo/components/terraform/vpc"),
        instance("tgw/hub@ue1-dev", "vpc@ue1-dev", vars=CONTEXT, settings={"team": "net"},
                 component_path="/repo/components/terraform/tgw/hub"),
        instance("nginx@ue1-dev", "tgw/hub@ue1-dev", vars=CONTEXT, component_type="helmfile",
                 component_path="/repo/components/helmfile/nginx"),
        instance("base@ue1-dev", "vpc@ue1-dev", metadata={"type": "abstract"}),
        instance("off@ue1-dev", "vpc@ue1-dev", metadata={"enabled": False}),
    )


def test_dependents_in_the_atmos_shape():
    describer = AtmosDescriber(stackset(*platform(), repo="/repo"))
    assert describer.dependents("vpc", "ue1-dev") == [{
        "component": "tgw/hub", "component_type": "terraform",
        "component_path": "components/terraform/tgw/hub",
        "namespace": "acme", "environment": "ue1", "stage": "dev",
        "stack": "ue1-dev", "stack_slug": "ue1-dev-tgw-hub",
        "dependents": None, "included_in_dependents": False, "settings": None,
    }]
    # a helmfile release depending on a Terraform component is a dependent too
    assert [d["component"] for d in describer.dependents("tgw/hub", "ue1-dev")] == ["nginx"]
    assert describer.dependents("nginx", "ue1-dev") == []


def test_dependents_with_settings_and_nested_dependents():
    describer = AtmosDescriber(stackset(*platform(), repo="/repo"))
    [hub] = describer.dependents("vpc", "ue1-dev", include_settings=True, include_dependents=True)
    assert hub["settings"] == {"team": "net"}
    assert [(d["component"], d["dependents"]) for d in hub["dependents"]] == [("nginx", [])]


def test_nested_dependents_stop_at_a_cycle():
    looped = stackset(instance("a@s", "b@s"), instance("b@s", "a@s"), instance("c@s", "b@s"))
    [b] = [d for d in AtmosDescriber(looped).dependents("a", "s", include_dependents=True)]
    nested = {d["component"]: d["dependents"] for d in b["dependents"]}
    assert nested["a"] is None and nested["c"] == []


def test_unknown_instance_is_an_error():
    with pytest.raises(GraphError, match="did you mean vpc@ue1-dev"):
        AtmosDescriber(stackset(*platform())).dependents("vpcc", "ue1-dev")


def test_affected_names_sections_like_atmos():
    base = stackset(*platform(), repo="/repo")
    vpc, hub, nginx, *rest = platform()
    current = stackset(dataclasses.replace(vpc, vars={**CONTEXT, "cidr": "10.0.0.0/16"},
                                           env={"A": "1"}),
                       hub, nginx, *rest, instance("new@ue1-dev", vars=CONTEXT), repo="/repo")
    affected = AtmosDescriber(current).affected(base)
    assert [(a["component"], a["affected"], a["affected_all"]) for a in affected] == [
        ("new", "stack.vars", ["stack.vars"]),
        ("vpc", "stack.vars", ["stack.vars", "stack.env"]),
    ]
    assert affected[1]["dependents"] is None and affected[1]["stack_slug"] == "ue1-dev-vpc"


def test_affected_with_dependents_marks_items_inside_another_tree():
    base = stackset(*platform(), repo="/repo")
    vpc, hub, *rest = platform()
    current = stackset(dataclasses.replace(vpc, env={"A": "1"}),
                       dataclasses.replace(hub, env={"B": "2"}), *rest, repo="/repo")
    affected = {a["component"]: a for a in AtmosDescriber(current).affected(base, include_dependents=True)}
    assert affected["vpc"]["included_in_dependents"] is False
    assert affected["tgw/hub"]["included_in_dependents"] is True
    [hub_entry] = affected["vpc"]["dependents"]
    assert hub_entry["component"] == "tgw/hub"
    assert [d["component"] for d in hub_entry["dependents"]] == ["nginx"]
