"""Where an instance lives (region, account, role) and what kind of environment it is.

Environment type, first match wins:
1. `settings.stackharness.environment_type` (set per stack or per component; merged like settings);
2. the harness config's `environments` mapping: stack-name globs (in file order), then account ids;
3. when `environments.guess_from_account_name` is on, a guess from the account name, stage or stack
   name (`prod`, `staging`, `dev`, `sandbox`, ...), logged as a WARNING per instance.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.config import EnvironmentRules

log = logging.getLogger("harness.stacks")

_GUESSES = (
    ("prod", re.compile(r"(?:^|[^a-z])(?:prod|prd|production|live)(?:[^a-z]|$)")),
    ("staging", re.compile(r"(?:^|[^a-z])(?:staging|stage|stg|preprod|uat)(?:[^a-z]|$)")),
    ("dev", re.compile(r"(?:^|[^a-z])(?:dev|develop|development|test|qa)(?:[^a-z]|$)")),
    ("sandbox", re.compile(r"(?:^|[^a-z])(?:sandbox|sbx|playground)(?:[^a-z]|$)")),
)


@dataclass(frozen=True)
class Location:
    region: str | None
    account_id: str | None
    role_arn: str | None


def _str(value: Any) -> str | None:
    if value is None or value == "" or isinstance(value, dict | list):
        return None
    return str(value)


def harness_settings(settings: Mapping[str, Any]) -> Mapping[str, Any]:
    value = settings.get("stackharness")
    return value if isinstance(value, dict) else {}


def locate(section: Mapping[str, Any], default_region: str | None) -> Location:
    """Region: settings.stackharness.region > vars.region > providers.aws.region > backend region >
    the config's default; account and role from settings.stackharness."""
    ours = harness_settings(section.get("settings") or {})
    vars_ = section.get("vars") or {}
    providers = section.get("providers") or {}
    aws = providers.get("aws") if isinstance(providers, dict) else None
    backend = section.get("backend") or {}
    region = (_str(ours.get("region")) or _str(vars_.get("region"))
              or (_str(aws.get("region")) if isinstance(aws, dict) else None)
              or _str(backend.get("region")) or default_region)
    return Location(region, _str(ours.get("account_id")), _str(ours.get("role_arn")))


def guess_environment(*texts: str | None) -> str | None:
    """The first environment word found in the given names (account name, stage, stack name)."""
    for text in texts:
        if not text:
            continue
        lowered = text.lower()
        for env_type, pattern in _GUESSES:
            if pattern.search(lowered):
                return env_type
    return None


def classify(instance_id: str, stack: str, section: Mapping[str, Any], account_id: str | None,
             rules: EnvironmentRules) -> tuple[str | None, str]:
    """The environment type and how it was found (`settings`, `config`, `guess` or `none`)."""
    ours = harness_settings(section.get("settings") or {})
    explicit = _str(ours.get("environment_type"))
    if explicit:
        return explicit, "settings"
    mapped = rules.classify(stack, account_id)
    if mapped:
        return mapped, "config"
    if rules.guess_from_account_name:
        vars_ = section.get("vars") or {}
        guessed = guess_environment(_str(ours.get("account_name")), _str(vars_.get("account_name")),
                                    _str(vars_.get("stage")), stack)
        if guessed:
            log.warning("%s: environment type %r guessed from its account, stage or stack name; set "
                        "settings.stackharness.environment_type or an environments mapping to be sure",
                        instance_id, guessed)
            return guessed, "guess"
    return None, "none"
