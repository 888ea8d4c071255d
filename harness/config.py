"""Harness configuration and environment profiles.

One `HarnessConfig`, built once per run from, in rising precedence: defaults, `stackharness.yaml`
next to the stacks repo's `atmos.yaml`, `[tool.stackharness]` in the current directory's
`pyproject.toml`, `STACKHARNESS_*` environment variables, then command-line options (pytest options
and CLI flags share the names). It is passed around explicitly; nothing reads a global.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import ConfigError, yaml_problem

CONFIG_FILE = "stackharness.yaml"
ENV_PREFIX = "STACKHARNESS_"
# Variables the runner sets for `--exec` commands; they are not configuration.
_RUNNER_ENV = {"INSTANCE", "COMPONENT", "STACK", "WORKDIR", "VARS_FILE"}
CREDENTIAL_KINDS = ("acm_certificate", "iam_server_certificate", "iam_access_key",
                    "secretsmanager_secret", "kms_key")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str | int | float, *, what: str = "duration") -> float:
    """Seconds in `90s`, `30m`, `2h`, `1d` (a bare number is seconds)."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    match = _DURATION.match(str(text))
    if not match:
        raise ConfigError(f"{what} {text!r} is not a duration", hint="write it as 90s, 30m, 2h or 1d")
    return float(match.group(1)) * _DURATION_UNITS[match.group(2)]


@dataclass(frozen=True)
class RetrySettings:
    """Backoff for throttling and transient AWS errors: exponential with full jitter."""

    base: float = 0.2
    cap: float = 20.0
    max_attempts: int = 8


@dataclass(frozen=True)
class EnvironmentProfile:
    """What applies to instances of one environment type (prod, staging, dev, sandbox, ...)."""

    name: str = "default"
    drift_severity: str = "fail"          # fail: drift fails the item; warn: reported, item passes
    severity: str = "normal"              # Allure severity label
    max_concurrency: int | None = None    # at most this many instances of the type at once
    lock_stale_after: float = 2 * 3600    # seconds after which a lock counts as abandoned
    retry: RetrySettings = RetrySettings()
    rate_limit: float | None = None       # AWS calls per second per (account, region, service)
    credentials: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class EnvironmentRules:
    """How instances get an environment type when their settings do not say it."""

    stacks: Mapping[str, str] = field(default_factory=dict)    # stack-name glob -> type
    accounts: Mapping[str, str] = field(default_factory=dict)  # account id -> type
    guess_from_account_name: bool = False

    def classify(self, stack: str, account_id: str | None) -> str | None:
        """The type from the mapping: the first matching stack glob (in file order), then the account."""
        for pattern, env_type in self.stacks.items():
            if fnmatch.fnmatchcase(stack, pattern):
                return env_type
        if account_id and account_id in self.accounts:
            return self.accounts[account_id]
        return None


@dataclass(frozen=True)
class UnmanagedRules:
    """Ownership markers of live resources that should be in some state; empty turns the check off."""

    tag_keys: tuple[str, ...] = ()
    name_prefixes: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.tag_keys or self.name_prefixes)


@dataclass(frozen=True)
class HarnessConfig:
    """Everything a run needs to know, resolved once. Paths are absolute."""

    stacks_repo: Path = Path(".")
    stacks_source: str = "native"
    aws_endpoint_url: str | None = None
    aws_profile: str | None = None
    default_region: str = "us-east-1"
    report_dir: Path = Path("reports")
    drift_json: Path | None = None
    drift_report: Path | None = None
    history_dir: Path | None = None
    history_retention: int = 100
    profile: str | None = None
    profiles: Mapping[str, EnvironmentProfile] = field(default_factory=dict)
    environments: EnvironmentRules = EnvironmentRules()
    strict_environments: bool = False
    suppressions_file: Path | None = None
    plan_json_dir: Path | None = None      # refresh-only plan JSON per instance: drift from plans, not live reads
    unmanaged: UnmanagedRules = UnmanagedRules()
    max_terraform_version: str | None = None
    api_budget: int | None = None
    inject_aws_faults: str | None = None
    rotation_store: str | None = None
    certificate_sources: Mapping[str, str] = field(default_factory=dict)
    notify_webhook: str | None = None
    notify_sns_topic: str | None = None
    log_format: str = "text"
    sources: tuple[str, ...] = ()         # where the values came from, lowest precedence first

    # -- derived locations -------------------------------------------------------------------
    @property
    def drift_json_path(self) -> Path:
        return self.drift_json or self.report_dir / "drift.json"

    @property
    def drift_report_path(self) -> Path:
        return self.drift_report or self.report_dir / "drift-report.html"

    @property
    def history_path(self) -> Path:
        return self.history_dir or self.report_dir / "history"

    @property
    def suppressions_path(self) -> Path:
        return self.suppressions_file or self.stacks_repo / "drift-suppressions.yaml"

    def profile_for(self, environment_type: str | None) -> EnvironmentProfile:
        """The profile that applies to an environment type (`--profile` forces one for all)."""
        name = self.profile or environment_type
        if name and name in self.profiles:
            return self.profiles[name]
        if self.profile:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise ConfigError(f"profile {self.profile!r} is not defined",
                              hint=f"define it under profiles: (known: {known})")
        return self.profiles.get("default", EnvironmentProfile())

    def with_overrides(self, **changes: Any) -> HarnessConfig:
        """A copy with some fields replaced (values already parsed)."""
        return dataclasses.replace(self, **changes)


# -- parsing -----------------------------------------------------------------------------------

def _opt_str(value: Any, key: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str | int | float):
        raise ConfigError(f"{key} must be a string, got {type(value).__name__}")
    return str(value)


def _str_choice(*choices: str) -> Callable[[Any, str], str]:
    def parse(value: Any, key: str) -> str:
        if value not in choices:
            raise ConfigError(f"{key} must be one of {', '.join(choices)}, got {value!r}")
        return value
    return parse


def _bool(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{key} must be true or false, got {value!r}")


def _opt_int(value: Any, key: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key} must be a whole number, got {value!r}") from None
    if number < 0:
        raise ConfigError(f"{key} must not be negative, got {number}")
    return number


def _int(value: Any, key: str) -> int:
    number = _opt_int(value, key)
    if number is None:
        raise ConfigError(f"{key} must be a whole number")
    return number


def _mapping(value: Any, key: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key} must be a mapping, got {type(value).__name__}")
    return value


def _check_keys(value: Mapping[str, Any], allowed: set[str], key: str) -> None:
    for name in value:
        if name not in allowed:
            raise ConfigError(f"unknown key {key}.{name}", hint=_did_you_mean(str(name), allowed))


def _retry(value: Any, key: str) -> RetrySettings:
    data = _mapping(value, key)
    _check_keys(data, {f.name for f in dataclasses.fields(RetrySettings)}, key)
    try:
        return RetrySettings(base=float(data.get("base", RetrySettings.base)),
                             cap=float(data.get("cap", RetrySettings.cap)),
                             max_attempts=_int(data.get("max_attempts", RetrySettings.max_attempts),
                                               f"{key}.max_attempts"))
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc}") from None


def _profile(name: str, value: Any, key: str) -> EnvironmentProfile:
    data = _mapping(value, key)
    _check_keys(data, {f.name for f in dataclasses.fields(EnvironmentProfile)} - {"name"}, key)
    credentials = _mapping(data.get("credentials"), f"{key}.credentials")
    for kind, policy in credentials.items():
        if kind not in CREDENTIAL_KINDS:
            raise ConfigError(f"unknown credential kind {key}.credentials.{kind}",
                              hint=_did_you_mean(kind, set(CREDENTIAL_KINDS)))
        _mapping(policy, f"{key}.credentials.{kind}")
    max_concurrency = _opt_int(data.get("max_concurrency"), f"{key}.max_concurrency")
    if max_concurrency == 0:
        raise ConfigError(f"{key}.max_concurrency must be at least 1")
    rate = data.get("rate_limit")
    return EnvironmentProfile(
        name=name,
        drift_severity=_str_choice("fail", "warn")(data.get("drift_severity", "fail"),
                                                   f"{key}.drift_severity"),
        severity=_str_choice("blocker", "critical", "normal", "minor", "trivial")(
            data.get("severity", "normal"), f"{key}.severity"),
        max_concurrency=max_concurrency,
        lock_stale_after=parse_duration(data.get("lock_stale_after", EnvironmentProfile.lock_stale_after),
                                        what=f"{key}.lock_stale_after"),
        retry=_retry(data.get("retry"), f"{key}.retry"),
        rate_limit=float(rate) if rate is not None else None,
        credentials={k: dict(v or {}) for k, v in credentials.items()},
    )


def _profiles(value: Any, key: str) -> Mapping[str, EnvironmentProfile]:
    data = _mapping(value, key)
    return {str(name): _profile(str(name), body, f"{key}.{name}") for name, body in data.items()}


def _environments(value: Any, key: str) -> EnvironmentRules:
    data = _mapping(value, key)
    _check_keys(data, {"stacks", "accounts", "guess_from_account_name"}, key)
    return EnvironmentRules(
        stacks={str(k): str(v) for k, v in _mapping(data.get("stacks"), f"{key}.stacks").items()},
        accounts={str(k): str(v) for k, v in _mapping(data.get("accounts"), f"{key}.accounts").items()},
        guess_from_account_name=_bool(data.get("guess_from_account_name", False),
                                      f"{key}.guess_from_account_name"),
    )


def _str_tuple(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{key} must be a list of strings")
    return tuple(str(v) for v in value)


def _unmanaged(value: Any, key: str) -> UnmanagedRules:
    data = _mapping(value, key)
    _check_keys(data, {"tag_keys", "name_prefixes"}, key)
    return UnmanagedRules(tag_keys=_str_tuple(data.get("tag_keys"), f"{key}.tag_keys"),
                          name_prefixes=_str_tuple(data.get("name_prefixes"), f"{key}.name_prefixes"))


def _str_map(value: Any, key: str) -> Mapping[str, str]:
    return {str(k): str(v) for k, v in _mapping(value, key).items()}


# Paths are resolved relative to the directory of the source that set them.
_PATH_FIELDS = {"stacks_repo", "report_dir", "drift_json", "drift_report", "history_dir",
                "suppressions_file", "plan_json_dir"}

_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "stacks_repo": _opt_str,
    "stacks_source": _str_choice("native", "atmos"),
    "aws_endpoint_url": _opt_str,
    "aws_profile": _opt_str,
    "default_region": _opt_str,
    "report_dir": _opt_str,
    "drift_json": _opt_str,
    "drift_report": _opt_str,
    "history_dir": _opt_str,
    "history_retention": _int,
    "profile": _opt_str,
    "profiles": _profiles,
    "environments": _environments,
    "strict_environments": _bool,
    "suppressions_file": _opt_str,
    "plan_json_dir": _opt_str,
    "unmanaged": _unmanaged,
    "max_terraform_version": _opt_str,
    "api_budget": _opt_int,
    "inject_aws_faults": _opt_str,
    "rotation_store": _opt_str,
    "certificate_sources": _str_map,
    "notify_webhook": _opt_str,
    "notify_sns_topic": _opt_str,
    "log_format": _str_choice("text", "json"),
}
# Structured values only make sense in files, not in one environment variable.
_FILE_ONLY = {"profiles", "environments", "unmanaged", "certificate_sources"}
CONFIG_KEYS = frozenset(_PARSERS)


def _did_you_mean(name: str, known: set[str] | frozenset[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"known keys: {', '.join(sorted(known))}"


def _line_of(text: str, key: str) -> int | None:
    match = re.search(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*[:=]", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


@dataclass(frozen=True)
class _Source:
    name: str
    values: Mapping[str, Any]
    base_dir: Path
    text: str = ""

    def parse(self) -> dict[str, Any]:
        parsed: dict[str, Any] = {}
        for key, value in self.values.items():
            if key not in _PARSERS:
                raise ConfigError(f"unknown configuration key {key!r}", where=self.name,
                                  line=_line_of(self.text, key), hint=_did_you_mean(key, CONFIG_KEYS))
            try:
                result = _PARSERS[key](value, key)
            except ConfigError as exc:
                raise ConfigError(exc.what, where=self.name, line=_line_of(self.text, key),
                                  hint=exc.hint) from None
            if key in _PATH_FIELDS and result is not None:
                result = (self.base_dir / os.path.expanduser(result)).resolve()
            parsed[key] = result
        return parsed


def _yaml_source(path: Path) -> _Source | None:
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        what, line = yaml_problem(exc)
        raise ConfigError(what, where=path, line=line, hint="fix the YAML syntax") from None
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError("the file must hold a mapping of configuration keys", where=path, line=1)
    if "stacks_repo" in data:
        raise ConfigError("stacks_repo cannot be set in stackharness.yaml (the file lives in the repo)",
                          where=path, line=_line_of(text, "stacks_repo"),
                          hint="pass --stacks-repo or set it in pyproject.toml")
    return _Source(str(path), data, path.parent, text)


def _pyproject_source(cwd: Path) -> _Source | None:
    path = cwd / "pyproject.toml"
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", where=path, hint="fix the TOML syntax") from None
    section = data.get("tool", {}).get("stackharness")
    if section is None:
        return None
    return _Source(f"{path} [tool.stackharness]", section, cwd, text)


def _env_source(environ: Mapping[str, str], cwd: Path) -> _Source:
    values: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        key = name[len(ENV_PREFIX):].lower()
        if key.upper() in _RUNNER_ENV:
            continue
        if key not in _PARSERS or key in _FILE_ONLY:
            settable = CONFIG_KEYS - _FILE_ONLY
            close = difflib.get_close_matches(key, sorted(settable), n=1)
            hint = (f"did you mean {ENV_PREFIX}{close[0].upper()}?" if close
                    else "structured settings (profiles, environments, ...) belong in stackharness.yaml")
            raise ConfigError(f"unknown configuration variable {name}", where="environment", hint=hint)
        values[key] = value
    if "aws_endpoint_url" not in values and environ.get("AWS_ENDPOINT_URL"):
        values["aws_endpoint_url"] = environ["AWS_ENDPOINT_URL"]
    return _Source("environment", values, cwd)


def load_config(cli: Mapping[str, Any] | None = None, *, cwd: Path | None = None,
                environ: Mapping[str, str] | None = None) -> HarnessConfig:
    """Build the run's configuration from every source, highest precedence last.

    `cli` holds command-line values by config key; `None` values mean "not given".
    """
    cwd = (cwd or Path.cwd()).resolve()
    environ = os.environ if environ is None else environ
    cli_values = {k: v for k, v in (cli or {}).items() if v is not None}
    cli_source = _Source("command line", cli_values, cwd)
    env_source = _env_source(environ, cwd)
    project_source = _pyproject_source(cwd)

    # The stacks repo decides where stackharness.yaml is, so it is resolved first.
    early: dict[str, Any] = {}
    for source in (project_source, env_source, cli_source):
        if source is not None and "stacks_repo" in source.values:
            early.update(_Source(source.name, {"stacks_repo": source.values["stacks_repo"]},
                                 source.base_dir).parse())
    stacks_repo = early.get("stacks_repo", cwd)
    repo_source = _yaml_source(stacks_repo / CONFIG_FILE)

    merged: dict[str, Any] = {"stacks_repo": stacks_repo, "report_dir": cwd / "reports"}
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if region:
        merged["default_region"] = region
    used = ["defaults"]
    for source in (repo_source, project_source, env_source, cli_source):
        if source is None:
            continue
        merged.update(source.parse())
        if source.values:
            used.append(source.name)
    return HarnessConfig(**merged, sources=tuple(used))
