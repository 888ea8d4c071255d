"""Deep merge: Atmos rules, list strategies, markers, and structural sharing without mutation."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.stacks.merge import APPEND, MERGE, REPLACE, MergeTypeError, merge_layers, strip_markers
from harness.stacks.yaml_loader import UNSET, AppendList


def test_maps_merge_recursively_and_later_scalars_win():
    base = {"vars": {"a": 1, "tags": {"x": "1"}}, "settings": {"s": True}}
    top = {"vars": {"a": 2, "tags": {"y": "2"}}}
    assert merge_layers([base, top]) == {"vars": {"a": 2, "tags": {"x": "1", "y": "2"}},
                                         "settings": {"s": True}}


def test_null_overwrites_and_empty_map_keeps():
    assert merge_layers([{"a": {"b": 1}}, {"a": None}]) == {"a": None}
    assert merge_layers([{"a": {"b": 1}}, {"a": {}}]) == {"a": {"b": 1}}
    assert merge_layers([{"a": 1}, {"a": {"b": 2}}]) == {"a": {"b": 2}}


@pytest.mark.parametrize("strategy,expected", [
    (REPLACE, [3]),
    (APPEND, [1, 2, 3]),
    (MERGE, [1, 2]),          # scalars keep the earlier item; the result keeps the earlier length
])
def test_list_strategies_on_scalars(strategy, expected):
    assert merge_layers([{"l": [1, 2]}, {"l": [3]}], strategy)["l"] == expected


def test_merge_strategy_deep_merges_maps_by_index_and_ignores_extra_items():
    merged = merge_layers([{"l": [{"a": 1, "b": 1}, {"c": 1}]}, {"l": [{"b": 2}, {"d": 2}, {"e": 3}]}], MERGE)
    assert merged["l"] == [{"a": 1, "b": 2}, {"c": 1, "d": 2}]


def test_append_marker_appends_whatever_the_strategy():
    assert merge_layers([{"l": [1]}, {"l": AppendList([2])}], REPLACE)["l"] == [1, 2]
    assert type(merge_layers([{"l": [1]}, {"l": AppendList([2])}])["l"]) is list


def test_unset_removes_a_key_and_later_layers_can_set_it_again():
    assert merge_layers([{"a": 1, "b": 2}, {"a": UNSET}]) == {"b": 2}
    assert merge_layers([{"a": 1}, {"a": UNSET}, {"a": 3}]) == {"a": 3}
    assert strip_markers({"a": UNSET, "l": AppendList([1]), "m": {"x": UNSET}}) == {"l": [1], "m": {}}


def test_replacing_a_list_with_a_map_or_scalar_is_an_error_naming_the_path():
    with pytest.raises(MergeTypeError) as err:
        merge_layers([{"vars": {"zones": ["a"]}}, {"vars": {"zones": "a"}}])
    assert err.value.path == ("vars", "zones")
    with pytest.raises(MergeTypeError):
        merge_layers([{"zones": ["a"]}, {"zones": {"x": 1}}])


def test_single_layer_is_returned_shared_and_untouched_subtrees_are_shared():
    base = {"vars": {"a": 1}, "settings": {"big": {"x": 1}}}
    assert merge_layers([None, base, {}]) is base
    merged = merge_layers([base, {"vars": {"b": 2}}])
    assert merged["settings"] is base["settings"]
    assert base == {"vars": {"a": 1}, "settings": {"big": {"x": 1}}}


# -- properties -----------------------------------------------------------------------------------

def reference_merge(layers: list[dict[str, Any]], strategy: str) -> dict[str, Any]:
    """A deliberately naive implementation: deep copies, then the same rules."""
    def merge(dst: Any, src: Any) -> Any:
        if isinstance(src, dict):
            if isinstance(dst, dict):
                out = copy.deepcopy(dst)
                for key, value in src.items():
                    out[key] = merge(out[key], value) if key in out else copy.deepcopy(value)
                return out
            return copy.deepcopy(src)
        if isinstance(src, list) and isinstance(dst, list):
            if strategy == APPEND:
                return copy.deepcopy(dst) + copy.deepcopy(src)
            if strategy == MERGE:
                out = copy.deepcopy(dst)
                for i in range(min(len(dst), len(src))):
                    if isinstance(dst[i], dict) and isinstance(src[i], dict):
                        out[i] = reference_merge([dst[i], src[i]], REPLACE)
                return out
        return copy.deepcopy(src)

    result: dict[str, Any] = {}
    for layer in layers:
        result = merge(result, layer)
    return result


keys = st.sampled_from(["a", "b", "c", "d"])
scalars = st.one_of(st.integers(-3, 3), st.text(max_size=2), st.booleans())
# Lists only hold scalars or maps, and a key keeps its kind across layers (lists never meet a non-list,
# which Atmos rejects, tested above).
values = st.recursive(scalars, lambda children: st.dictionaries(keys, children, max_size=3), max_leaves=8)
layer = st.dictionaries(keys, st.one_of(values, st.lists(values, max_size=3).map(lambda v: {"list": v})),
                        max_size=4)


@settings(max_examples=200, deadline=None)
@given(st.lists(layer, max_size=4), st.sampled_from([REPLACE, APPEND, MERGE]))
def test_merge_equals_reference_and_never_mutates_inputs(layers, strategy):
    before = copy.deepcopy(layers)
    assert merge_layers(layers, strategy) == reference_merge(layers, strategy)
    assert layers == before


@settings(max_examples=100, deadline=None)
@given(layer)
def test_empty_layers_are_identities(value):
    assert merge_layers([{}, value, {}]) == value
    assert merge_layers([value, value]) == value
