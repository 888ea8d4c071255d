"""Parsing manifests: errors with lines, YAML functions, includes, and the parse-once cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.stacks.tfvars import TfvarsError, parse_tfvars
from harness.stacks.yaml_loader import UNSET, AppendList, ManifestParser, Unresolved, line_of_key


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_malformed_yaml_reports_the_line(tmp_path):
    path = write(tmp_path, "bad.yaml", "vars:\n  a: 1\n  b: [1, 2\nsettings: {}\n")
    parsed = ManifestParser().parse(path)
    assert parsed.data is None
    assert parsed.error.message.startswith("invalid YAML")
    assert parsed.error.line == 4 and parsed.error.file == str(path)


@pytest.mark.parametrize("text,kind", [("- a\n- b\n", "list"), ("just text\n", "string"), ("42\n", "number")])
def test_a_document_that_is_not_a_mapping_is_an_error(tmp_path, text, kind):
    parsed = ManifestParser().parse(write(tmp_path, "x.yaml", text))
    assert parsed.error is not None and f"not a {kind}" in parsed.error.message


def test_non_utf8_file_is_an_error_with_the_line(tmp_path):
    parsed = ManifestParser().parse(write(tmp_path, "latin1.yaml", b"vars:\n  city: M\xfcnchen\n"))
    assert "not UTF-8" in parsed.error.message and parsed.error.line == 2


def test_empty_file_is_an_empty_manifest(tmp_path):
    assert ManifestParser().parse(write(tmp_path, "empty.yaml", "# nothing\n")).data == {}


def test_each_file_is_read_once(tmp_path):
    parser = ManifestParser()
    path = write(tmp_path, "a.yaml", "vars: {a: 1}\n")
    first = parser.parse(path)
    assert parser.parse(path) is first
    assert parser.files_read == 1


def test_env_function_with_default(tmp_path, monkeypatch):
    monkeypatch.setenv("SH_TEST_REGION", "eu-west-1")
    monkeypatch.delenv("SH_TEST_MISSING", raising=False)
    data = ManifestParser().parse(write(tmp_path, "e.yaml", (
        "vars:\n  region: !env SH_TEST_REGION\n  other: !env SH_TEST_MISSING fallback\n"
        "  quoted: !env SH_TEST_MISSING 'two words'\n  none: !env SH_TEST_MISSING\n"))).data
    assert data["vars"] == {"region": "eu-west-1", "other": "fallback", "quoted": "two words", "none": ""}


def test_append_and_unset_markers(tmp_path):
    parsed = ManifestParser().parse(write(tmp_path, "m.yaml", "vars:\n  l: !append [1, 2]\n  gone: !unset\n"))
    assert type(parsed.data["vars"]["l"]) is AppendList and parsed.data["vars"]["gone"] is UNSET
    assert parsed.has_markers


def test_other_functions_are_unresolved_markers_with_a_warning_and_line(tmp_path):
    parsed = ManifestParser().parse(write(tmp_path, "f.yaml", (
        "vars:\n  a: 1\n  vpc_id: !terraform.output vpc vpc_id\n  secret: !store ssm /x key\n")))
    value = parsed.data["vars"]["vpc_id"]
    assert isinstance(value, Unresolved) and value == "!terraform.output vpc vpc_id"
    assert value.function == "!terraform.output"
    assert [(w.line, w.severity) for w in parsed.warnings] == [(3, "warning"), (4, "warning")]
    assert "not evaluated" in parsed.warnings[0].message


def test_include_yaml_json_and_tfvars_relative_to_the_manifest(tmp_path):
    write(tmp_path, "stacks/data/tags.yaml", "team: net\ncost: {center: 42}\n")
    write(tmp_path, "stacks/data/cidrs.json", '{"a": "10.0.0.0/16", "list": [1, 2]}')
    write(tmp_path, "stacks/data/vals.tfvars", 'name = "x"\nsize = 3\nzones = ["a", "b"]\n'
                                               'tags = { env = "dev", "k-2" = true }\n')
    manifest = write(tmp_path, "stacks/deploy/dev.yaml", (
        "vars:\n  tags: !include ../data/tags.yaml\n  cidrs: !include ../data/cidrs.json\n"
        "  tf: !include ../data/vals.tfvars\n"))
    data = ManifestParser().parse(manifest).data
    assert data["vars"]["tags"] == {"team": "net", "cost": {"center": 42}}
    assert data["vars"]["cidrs"] == {"a": "10.0.0.0/16", "list": [1, 2]}
    assert data["vars"]["tf"] == {"name": "x", "size": 3, "zones": ["a", "b"],
                                  "tags": {"env": "dev", "k-2": True}}


def test_include_falls_back_to_the_include_roots(tmp_path):
    write(tmp_path, "stacks/shared/x.yaml", "v: 1\n")
    manifest = write(tmp_path, "stacks/deploy/dev.yaml", "vars:\n  x: !include shared/x.yaml\n")
    parser = ManifestParser(include_roots=(tmp_path / "stacks",))
    assert parser.parse(manifest).data["vars"]["x"] == {"v": 1}


def test_include_of_a_missing_or_broken_file_is_an_error_with_the_manifest_line(tmp_path):
    manifest = write(tmp_path, "dev.yaml", "vars:\n  a: 1\n  x: !include nothere.yaml\n")
    parsed = ManifestParser().parse(manifest)
    assert parsed.error is not None and "nothere.yaml" in parsed.error.message and parsed.error.line == 3
    write(tmp_path, "bad.tfvars", 'x = var.y\n')
    parsed = ManifestParser().parse(write(tmp_path, "dev2.yaml", "vars:\n  x: !include bad.tfvars\n"))
    assert "expression" in parsed.error.message and parsed.error.file.endswith("bad.tfvars")


def test_line_of_key_finds_nested_keys():
    text = "import: []\ncomponents:\n  terraform:\n    vpc:\n      vars: {}\n"
    assert line_of_key(text, ("components", "terraform", "vpc")) == 4
    assert line_of_key(text, ("components", "terraform", "missing")) == 3


# -- tfvars ---------------------------------------------------------------------------------------

def test_tfvars_literals_comments_and_heredoc():
    text = '''
# comment
a = "x\\"y"   // trailing
b = -1.5e3
c = null
/* block
comment */
d = [
  1,
  "two",   # comment
  { k = "v" },
]
e = {
  nested = { deep = [true, false] }
  "quoted key": 1
}
f = <<-EOT
    line one
      line two
    EOT
'''
    assert parse_tfvars(text) == {"a": 'x"y', "b": -1500.0, "c": None, "d": [1, "two", {"k": "v"}],
                                  "e": {"nested": {"deep": [True, False]}, "quoted key": 1},
                                  "f": "line one\n  line two\n"}


@pytest.mark.parametrize("text,line", [('a = "unterminated\n', 1), ("a = 1\nb = var.x\n", 2),
                                       ('a = "${var.x}"\n', 1), ("a = [1, 2\n", 2), ("a 1\n", 1),
                                       ("a = upper(\"x\")\n", 1)])
def test_tfvars_errors_name_the_line(text, line):
    with pytest.raises(TfvarsError) as err:
        parse_tfvars(text)
    assert err.value.line == line


# -- property: any literal value written as tfvars parses back to itself ----------------------------


_names = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
_literals = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
              st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8),
              st.sampled_from(["${not.an.expression}", "%{ if x }", 'quote " and \\ slash', "#", "//"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_names, inner, max_size=3)),
    max_leaves=10)


def _hcl(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${").replace("%{", "%%{")
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(_hcl(v) for v in value) + "]"
    return "{\n" + "\n".join(f"  {k} = {_hcl(v)}" for k, v in value.items()) + "\n}"


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_names, _literals, max_size=4))
def test_tfvars_round_trip(values):
    text = "\n".join(f"{k} = {_hcl(v)}" for k, v in values.items())
    assert parse_tfvars(text) == values
