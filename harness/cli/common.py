"""What every subcommand shares: common options, the run context, and error handling."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.config import HarnessConfig, load_config
from harness.errors import HarnessError
from harness.log import Redactor, setup_logging

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
EXIT_BROKEN_PIPE = 141                 # stdout closed early (`| head`): 128 + SIGPIPE, as a shell tool

log = logging.getLogger("harness.cli")


@dataclass
class CommandContext:
    """What a subcommand handler receives: parsed args, the config, the redactor and the console."""

    args: argparse.Namespace
    config: HarnessConfig
    redactor: Redactor
    console: Console

    def print(self, text: str = "", **kwargs: Any) -> None:
        """Print redacted text to stdout (rich markup allowed)."""
        self.console.print(self.redactor.redact(text), **kwargs)

    def write(self, text: str) -> None:
        """Write redacted machine-readable text to stdout (no markup, no wrapping)."""
        sys.stdout.write(self.redactor.redact(text))
        if not text.endswith("\n"):
            sys.stdout.write("\n")
        sys.stdout.flush()


Handler = Callable[[CommandContext], int]


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Options every subcommand accepts; the names match the pytest options and config keys."""
    group = parser.add_argument_group("common options")
    group.add_argument("--stacks-repo", "--repo", dest="stacks_repo", metavar="DIR",
                       help="the Atmos repository (the folder holding atmos.yaml; default: .)")
    group.add_argument("--aws-endpoint-url", dest="aws_endpoint_url", metavar="URL",
                       help="send every AWS call to this endpoint (e.g. a moto server)")
    group.add_argument("--report-dir", dest="report_dir", metavar="DIR",
                       help="where reports are written (default: reports/)")
    group.add_argument("--profile", dest="profile", metavar="NAME",
                       help="apply this environment profile to every instance")
    group.add_argument("-v", "--verbose", action="count", default=0, help="more detail (repeatable)")
    group.add_argument("-q", "--quiet", action="count", default=0, help="less output (repeatable)")
    group.add_argument("--log-format", dest="log_format", choices=("text", "json"), default=None,
                       help="log line format on stderr")


def add_aws_options(parser: argparse.ArgumentParser) -> None:
    """Options of the commands whose AWS calls go through the access layer (`AwsContext`), which honours them."""
    group = parser.add_argument_group("AWS access options")
    group.add_argument("--api-budget", dest="api_budget", metavar="N",
                       help="issue at most N AWS calls; what is left unchecked is reported as an error")
    group.add_argument("--inject-aws-faults", dest="inject_aws_faults", metavar="SPEC",
                       help="testing aid: make AWS calls fail or slow down, deterministically, "
                            "e.g. throttle=0.3,error=0.0,latency_ms=20,seed=1")


def config_overrides(args: argparse.Namespace, keys: tuple[str, ...] = ()) -> dict[str, Any]:
    """Config values given on the command line (common options plus a command's own `keys`)."""
    names = ("stacks_repo", "aws_endpoint_url", "report_dir", "profile", "log_format", "api_budget",
             "inject_aws_faults", *keys)
    return {name: getattr(args, name, None) for name in names}


def run_handler(args: argparse.Namespace) -> int:
    """Build the context, run the subcommand, and turn errors into one line on stderr and exit 2."""
    redactor = Redactor()
    verbose = getattr(args, "verbose", 0)
    try:
        config = load_config(config_overrides(args, getattr(args, "config_keys", ())))
        if config.notify_webhook:           # its token is in the path or the query: never printed
            from harness.report.notify import webhook_secrets

            redactor.register(webhook_secrets(config.notify_webhook))
        setup_logging(redactor, verbose=verbose, quiet=getattr(args, "quiet", 0),
                      log_format=config.log_format)
        console = Console(highlight=False, soft_wrap=True)
        code = args.handler(CommandContext(args, config, redactor, console))
        sys.stdout.flush()                  # a closed pipe shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        return _stdout_closed()
    except HarnessError as exc:
        print(f"stackharness: error: {redactor.redact(str(exc))}", file=sys.stderr)
        if verbose:
            print(redactor.redact(traceback.format_exc()), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("stackharness: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an unexpected failure is still one line unless --verbose
        print(f"stackharness: internal error: {redactor.redact(f'{type(exc).__name__}: {exc}')} "
              "— rerun with --verbose for the traceback and report it", file=sys.stderr)
        if verbose:
            print(redactor.redact(traceback.format_exc()), file=sys.stderr)
        return EXIT_ERROR


def _stdout_closed() -> int:
    """The reader of stdout went away (`| head`): stop quietly, exit 141 like a process killed by SIGPIPE.

    Python's recipe: point stdout at devnull so the interpreter's final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


def add_command(subparsers: Any, name: str, common: argparse.ArgumentParser, handler: Handler, *,
                help: str, config_keys: tuple[str, ...] = (), aws: bool = False) -> argparse.ArgumentParser:
    """Register a subcommand with the common options; `config_keys` are its own options that are config.

    `aws=True` adds `--api-budget` and `--inject-aws-faults`: only for commands that honour them
    (their AWS calls go through `AwsContext.from_config`, or, for `demo` and `scenario run`, the drift suite
    run they start); elsewhere they are usage errors, not ignored.
    """
    parser = subparsers.add_parser(name, parents=[common], help=help, description=help)
    if aws:
        add_aws_options(parser)
    parser.set_defaults(handler=handler, config_keys=config_keys)
    return parser


def path_arg(value: str) -> Path:
    """argparse type for paths (kept as given; resolved by the config loader or the command)."""
    return Path(value)
