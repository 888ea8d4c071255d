"""Plain scalars resolve as Atmos (go-yaml v3) resolves them, in manifests, includes and atmos.yaml."""

from __future__ import annotations

import math

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.stacks import load
from harness.stacks.yaml_loader import ManifestParser
from harness.stacks.yaml_scalars import GoScalarLoader, go_number

ATMOS = ('base_path: "."\nstacks:\n  base_path: stacks\n  included_paths: ["deploy/**/*"]\n'
         '  name_pattern: "{stage}"\n')


def parse(text: str):
    return yaml.load(text, Loader=GoScalarLoader)


@pytest.mark.parametrize("text,expected", [
    ("on", "on"), ("Off", "Off"), ("YES", "YES"), ("no", "no"), ("y", "y"), ("N", "N"),
    ("true", True), ("True", True), ("TRUE", True), ("false", False), ("False", False), ("FALSE", False),
    ("tRUE", "tRUE"),
    ("~", None), ("null", None), ("Null", None), ("NULL", None), ("", None), ("nULL", "nULL"),
    ("12:30", "12:30"), ("190:20:30", "190:20:30"),
    ("010", 8), ("-010", -8), ("08", 8.0), ("0o17", 15), ("0x1F", 31), ("-0x1f", -31), ("0b101", 5),
    ("1_000", 1000), ("+7", 7), ("0", 0),
    ("1.5", 1.5), ("1e3", 1000.0), (".5", 0.5), ("-2.", -2.0), ("1e999", "1e999"),
    ("2024-01-01", "2024-01-01"), ("2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z"),
    ("10.0.0.0/16", "10.0.0.0/16"), ("1.2.3", "1.2.3"), ("=", "="), ("-x", "-x"), (".x", ".x"), ("0x", "0x"),
    ("9223372036854775807", 2**63 - 1), ("18446744073709551615", 2**64 - 1),
    ("18446744073709551616", 1.8446744073709552e19), ("-9223372036854775809", -9.223372036854776e18),
])
def test_plain_scalars_resolve_like_go_yaml_v3(text, expected):
    value = parse(f"v: {text}\n")["v"]
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("text,sign", [(".inf", 1), (".Inf", 1), ("+.INF", 1), ("-.inf", -1), ("-.INF", -1)])
def test_infinities(text, sign):
    assert parse(f"v: {text}") == {"v": sign * math.inf}


@pytest.mark.parametrize("text", [".nan", ".NaN", ".NAN"])
def test_not_a_number(text):
    assert math.isnan(parse(f"v: {text}")["v"])


def test_quoted_scalars_and_keys_stay_strings():
    assert parse('"on": "true"\noff: \'010\'\n1: x\n') == {"on": "true", "off": "010", 1: "x"}


_OLD_BOOLS = ["y", "yes", "n", "no", "on", "off"]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_OLD_BOOLS), st.lists(st.booleans(), min_size=3, max_size=3))
def test_yaml_1_1_booleans_in_any_case_are_strings(word, upper):
    spelled = "".join(c.upper() if u else c for c, u in zip(word, upper + upper, strict=False))
    assert parse(f"{spelled}: {spelled}\n") == {spelled: spelled}


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=59))
def test_sexagesimal_is_a_string(hours, minutes):
    text = f"{hours}:{minutes:02d}"
    assert parse(f"v: {text}") == {"v": text}


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_integers_in_every_base_round_trip(n):
    sign = "-" if n < 0 else ""
    for text in (str(n), f"{sign}0x{abs(n):x}", f"{sign}0o{abs(n):o}", f"{sign}0b{abs(n):b}",
                 f"{sign}0{abs(n):o}" if n else "0"):
        assert go_number(text) == n, text


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_round_trip(x):
    text = repr(x)
    assert "e" in text or "." in text
    assert parse(f"v: {text}")["v"] == x


def test_manifests_and_their_includes_use_the_same_rules(tmp_path):
    (tmp_path / "inc.yaml").write_text("switch: off\nat: 12:30\n")
    path = tmp_path / "m.yaml"
    path.write_text("vars: {a: on, b: 0o17, c: 2024-01-01, inc: !include inc.yaml}\n")
    assert ManifestParser().parse(path).data == {
        "vars": {"a": "on", "b": 15, "c": "2024-01-01", "inc": {"switch": "off", "at": "12:30"}}}


def test_a_component_named_on_keeps_its_name(make_repo):
    repo = make_repo({"stacks/deploy/dev.yaml": """
        vars: {stage: dev}
        components:
          terraform:
            on: {vars: {enabled: yes, window: 12:30}}
            "no": {metadata: {enabled: no}}
    """}, ATMOS)
    stacks = load(repo)
    assert sorted(i.id for i in stacks.instances) == ["no@dev", "on@dev"]
    on = stacks.get("on@dev")
    assert on.vars["enabled"] == "yes" and on.vars["window"] == "12:30"
    assert stacks.get("no@dev").enabled           # Atmos reads only a boolean false as disabled


def test_atmos_yaml_uses_the_same_rules(make_repo):
    repo = make_repo({"on/deploy/dev.yaml": "vars: {stage: dev}\ncomponents: {terraform: {vpc: {}}}\n"},
                     ATMOS.replace("base_path: stacks", "base_path: on"))
    assert [i.id for i in load(repo).instances] == ["vpc@dev"]
