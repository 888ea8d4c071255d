"""HarnessConfig: sources, precedence, unknown keys, profiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import EnvironmentProfile, load_config, parse_duration
from harness.errors import ConfigError


def _repo(tmp_path: Path, stackharness_yaml: str | None = None) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "atmos.yaml").write_text("stacks: {base_path: stacks}\n")
    if stackharness_yaml is not None:
        (repo / "stackharness.yaml").write_text(stackharness_yaml)
    return repo


def test_defaults_resolve_against_the_current_directory(tmp_path):
    config = load_config({}, cwd=tmp_path, environ={})
    assert config.stacks_repo == tmp_path
    assert config.report_dir == tmp_path / "reports"
    assert config.drift_json_path == tmp_path / "reports" / "drift.json"
    assert config.drift_report_path == tmp_path / "reports" / "drift-report.html"
    assert config.sources == ("defaults",)


def test_precedence_repo_file_then_pyproject_then_environment_then_cli(tmp_path):
    repo = _repo(tmp_path, "report_dir: from-repo\ndefault_region: eu-west-1\nhistory_retention: 5\n")
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.stackharness]\nstacks_repo = "{repo.name}"\nreport_dir = "from-pyproject"\nhistory_retention = 7\n')
    env = {"STACKHARNESS_REPORT_DIR": str(tmp_path / "from-env"), "STACKHARNESS_HISTORY_RETENTION": "9"}
    config = load_config({"history_retention": 11}, cwd=tmp_path, environ=env)
    assert config.stacks_repo == repo
    assert config.default_region == "eu-west-1"          # only the repo file sets it
    assert config.report_dir == tmp_path / "from-env"    # env beats pyproject and repo file
    assert config.history_retention == 11                # the command line beats everything


def test_repo_file_paths_are_relative_to_the_repo(tmp_path):
    repo = _repo(tmp_path, "report_dir: out\n")
    config = load_config({"stacks_repo": str(repo)}, cwd=tmp_path, environ={})
    assert config.report_dir == repo / "out"


def test_unknown_key_names_file_line_and_suggestion(tmp_path):
    repo = _repo(tmp_path, "report_dir: x\nreport_dri: y\n")
    with pytest.raises(ConfigError) as err:
        load_config({"stacks_repo": str(repo)}, cwd=tmp_path, environ={})
    message = str(err.value)
    assert f"{repo / 'stackharness.yaml'}:2" in message
    assert "report_dri" in message and "report_dir" in message


def test_unknown_environment_variable_is_an_error_with_a_suggestion(tmp_path):
    with pytest.raises(ConfigError, match=r"STACKHARNESS_REPORT_DIRR.*STACKHARNESS_REPORT_DIR"):
        load_config({}, cwd=tmp_path, environ={"STACKHARNESS_REPORT_DIRR": "x"})


def test_aws_endpoint_url_standard_variable_is_honoured(tmp_path):
    config = load_config({}, cwd=tmp_path, environ={"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"})
    assert config.aws_endpoint_url == "http://127.0.0.1:5000"
    config = load_config({}, cwd=tmp_path, environ={"AWS_ENDPOINT_URL": "http://a",
                                                      "STACKHARNESS_AWS_ENDPOINT_URL": "http://b"})
    assert config.aws_endpoint_url == "http://b"


def test_profiles_are_parsed_and_selected_by_environment_type(tmp_path):
    repo = _repo(tmp_path, """
profiles:
  prod: {drift_severity: fail, max_concurrency: 2, lock_stale_after: 6h,
         credentials: {acm_certificate: {warn_days: 30}}}
  dev: {drift_severity: warn, lock_stale_after: 1h}
""")
    config = load_config({"stacks_repo": str(repo)}, cwd=tmp_path, environ={})
    assert config.profile_for("prod").max_concurrency == 2
    assert config.profile_for("prod").lock_stale_after == 6 * 3600
    assert config.profile_for("dev").drift_severity == "warn"
    assert config.profile_for("sandbox") == EnvironmentProfile()       # no default profile: built-in
    forced = load_config({"stacks_repo": str(repo), "profile": "dev"}, cwd=tmp_path, environ={})
    assert forced.profile_for("prod").name == "dev"


def test_unknown_profile_key_and_forced_unknown_profile_are_errors(tmp_path):
    repo = _repo(tmp_path, "profiles:\n  prod: {drift_severty: warn}\n")
    with pytest.raises(ConfigError, match=r"profiles.prod.drift_severty.*drift_severity"):
        load_config({"stacks_repo": str(repo)}, cwd=tmp_path, environ={})
    config = load_config({"profile": "nope"}, cwd=tmp_path, environ={})
    with pytest.raises(ConfigError, match="profile 'nope' is not defined"):
        config.profile_for("dev")


def test_invalid_yaml_reports_the_line(tmp_path):
    repo = _repo(tmp_path, "report_dir: [unclosed\n")
    with pytest.raises(ConfigError, match=r"stackharness.yaml:\d"):
        load_config({"stacks_repo": str(repo)}, cwd=tmp_path, environ={})


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400),
                                                ("15", 15), (2.5, 2.5)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


def test_parse_duration_rejects_garbage():
    with pytest.raises(ConfigError, match="not a duration"):
        parse_duration("2 weeks")
