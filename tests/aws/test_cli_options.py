"""The common CLI flags of the access layer map to their config keys."""

from __future__ import annotations

import argparse

import pytest

from harness.aws import AwsContext, FaultSpec
from harness.cli.common import add_aws_options, add_common_options, config_overrides
from harness.config import load_config
from harness.errors import ConfigError
from harness.log import Redactor


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_common_options(parser)
    add_aws_options(parser)
    return parser.parse_args(argv)


def test_flags_become_config_values(tmp_path):
    args = _parse(["--api-budget", "250", "--inject-aws-faults", "throttle=0.3,seed=1"])
    config = load_config(config_overrides(args), cwd=tmp_path, environ={})
    assert config.api_budget == 250
    aws = AwsContext.from_config(config, redactor=Redactor())
    assert aws.budget.limit == 250
    assert aws.faults == FaultSpec(throttle=0.3, seed=1)


def test_flags_are_optional(tmp_path):
    config = load_config(config_overrides(_parse([])), cwd=tmp_path, environ={})
    assert config.api_budget is None and config.inject_aws_faults is None
    aws = AwsContext.from_config(config, redactor=Redactor())
    assert aws.budget.limit is None and aws.faults is None


def test_bad_budget_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="api_budget"):
        load_config(config_overrides(_parse(["--api-budget", "lots"])), cwd=tmp_path, environ={})
