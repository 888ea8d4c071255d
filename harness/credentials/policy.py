"""Credential policies per environment type, read from `profiles.<type>.credentials.<kind>`.

Defaults when nothing is configured: `warn_days` 30, `critical_days` 7, `max_age_days` 90,
`require_rotation` false (and `grace_days` 7 before a replaced access key or server certificate
is deleted). Each kind accepts only the keys that mean something for it.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.config import EnvironmentProfile
from harness.credentials.model import (
    ACM_CERTIFICATE,
    IAM_ACCESS_KEY,
    IAM_SERVER_CERTIFICATE,
    KINDS,
    KMS_KEY,
    SECRETSMANAGER_SECRET,
)
from harness.errors import ConfigError

ALLOWED_KEYS: Mapping[str, tuple[str, ...]] = {
    ACM_CERTIFICATE: ("warn_days", "critical_days"),
    IAM_SERVER_CERTIFICATE: ("warn_days", "critical_days", "grace_days"),
    IAM_ACCESS_KEY: ("max_age_days", "warn_days", "sink", "grace_days"),
    SECRETSMANAGER_SECRET: ("max_age_days", "warn_days", "require_rotation"),
    KMS_KEY: ("require_rotation",),
}
SINK_TYPES = ("secretsmanager", "ssm")


@dataclass(frozen=True)
class SinkSpec:
    """Where a new access key is handed over: a Secrets Manager secret or an SSM parameter.

    `name` may use `{user}` (the IAM user name), e.g. `iam/{user}/access-key`.
    """

    type: str
    name: str
    region: str | None = None

    def resolve(self, user: str) -> str:
        """The sink's name for a user."""
        return self.name.replace("{user}", user)

    def describe(self, user: str) -> str:
        """`secretsmanager:iam/alice/access-key` (for plans and messages)."""
        return f"{self.type}:{self.resolve(user)}"

    def to_json(self) -> dict[str, Any]:
        data = {"type": self.type, "name": self.name}
        if self.region:
            data["region"] = self.region
        return data


@dataclass(frozen=True)
class CredentialPolicy:
    """The effective policy for one kind in one environment profile."""

    kind: str
    profile: str
    warn_days: int = 30
    critical_days: int = 7
    max_age_days: int = 90
    require_rotation: bool = False
    grace_days: int = 7
    sink: SinkSpec | None = None

    def to_json(self) -> dict[str, Any]:
        """The keys that apply to the kind, plus the profile they came from."""
        data: dict[str, Any] = {"profile": self.profile}
        for key in ALLOWED_KEYS[self.kind]:
            value = getattr(self, key)
            data[key] = value.to_json() if isinstance(value, SinkSpec) else value
        return data


def _where(profile: str, kind: str) -> str:
    return f"profiles.{profile}.credentials.{kind}"


def _days(value: Any, key: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or int(value) != value:
        raise ConfigError(f"{where}.{key} must be a whole number of days (0 or more), got {value!r}",
                          hint="for example warn_days: 30")
    return int(value)


def _sink(value: Any, where: str) -> SinkSpec:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}.sink must be a mapping with type and name, got {value!r}",
                          hint='for example sink: {type: secretsmanager, name: "iam/{user}/access-key"}')
    unknown = set(value) - {"type", "name", "region"}
    if unknown:
        raise ConfigError(f"unknown key {where}.sink.{sorted(unknown)[0]}", hint="known keys: type, name, region")
    sink_type, name = value.get("type"), value.get("name")
    if sink_type not in SINK_TYPES:
        raise ConfigError(f"{where}.sink.type must be one of {', '.join(SINK_TYPES)}, got {sink_type!r}")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}.sink.name must be a non-empty string",
                          hint='for example name: "iam/{user}/access-key"')
    region = value.get("region")
    return SinkSpec(type=sink_type, name=name.strip(), region=str(region) if region else None)


def parse_policy(kind: str, data: Mapping[str, Any] | None, *, profile: str = "default") -> CredentialPolicy:
    """The effective policy of `kind` from a profile's policy mapping (missing keys take the defaults)."""
    where = _where(profile, kind)
    if kind not in KINDS:
        close = difflib.get_close_matches(kind, KINDS, n=1)
        raise ConfigError(f"unknown credential kind {kind!r}",
                          hint=f"did you mean {close[0]!r}?" if close else f"kinds: {', '.join(KINDS)}")
    data = dict(data or {})
    allowed = ALLOWED_KEYS[kind]
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            raise ConfigError(f"unknown key {where}.{key}",
                              hint=f"did you mean {close[0]!r}?" if close else f"{kind} accepts: {', '.join(allowed)}")
    values: dict[str, Any] = {}
    for key in ("warn_days", "critical_days", "max_age_days", "grace_days"):
        if key in data:
            values[key] = _days(data[key], key, where)
    if "require_rotation" in data:
        flag = data["require_rotation"]
        if not isinstance(flag, bool):
            raise ConfigError(f"{where}.require_rotation must be true or false, got {flag!r}")
        values["require_rotation"] = flag
    if "sink" in data and data["sink"] is not None:
        values["sink"] = _sink(data["sink"], where)
    policy = CredentialPolicy(kind=kind, profile=profile, **values)
    if "critical_days" in allowed and policy.critical_days > policy.warn_days:
        raise ConfigError(f"{where}: critical_days ({policy.critical_days}) exceeds warn_days ({policy.warn_days})",
                          hint="critical is the nearer threshold: make critical_days at most warn_days")
    return policy


def policy_for(profile: EnvironmentProfile, kind: str) -> CredentialPolicy:
    """The policy for `kind` under an environment profile (defaults when the profile says nothing)."""
    return parse_policy(kind, profile.credentials.get(kind), profile=profile.name)


def validate_profiles(profiles: Mapping[str, EnvironmentProfile]) -> None:
    """Parse every configured policy once, so a typo fails the run up front with its location."""
    for profile in profiles.values():
        for kind in profile.credentials:
            policy_for(profile, kind)
