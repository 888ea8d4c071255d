"""`stackharness` command line: subcommands registered in one place, each a thin shell over the library.

Exit codes (the driftctl convention): 0 clean, 1 drift or failed checks, 2 usage/config/runtime error;
141 (quietly) when stdout is closed early, as by `| head`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from harness import __version__
from harness.cli import creds, demo, describe, graph, list_cmd, locks, report, run, scenario, state, whatif
from harness.cli.common import EXIT_ERROR, add_common_options, run_handler

# Each module contributes `register(subparsers, common)`; the order here is the order in --help.
COMMAND_MODULES = (demo, scenario, list_cmd, describe, graph, whatif, run, locks, state, report, creds)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="stackharness",
        description="Drift and test harness for Atmos + Terraform + AWS.",
        epilog="Exit codes: 0 clean, 1 drift or failed checks, 2 usage, configuration or runtime error.",
    )
    parser.add_argument("--version", action="version", version=f"stackharness {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    add_common_options(common)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `stackharness` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    return run_handler(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
