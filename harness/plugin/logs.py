"""Logging in a pytest run: pytest's own handlers carry the run's redaction, and `log_format: json`
makes them write stackharness's records (the `harness` logger tree) as JSON lines."""

from __future__ import annotations

import pytest

from harness.log import HarnessJsonFormatter, install_redaction
from harness.plugin.session import HarnessSession, harness_session

# caplog's handler is redacted too but keeps pytest's format: it is what a test's assertions read.
REDACTED = ("caplog_handler", "report_handler", "log_file_handler", "log_cli_handler")
FORMATTED = ("report_handler", "log_file_handler", "log_cli_handler")


def configure_logging(config: pytest.Config) -> None:
    """Redaction on every pytest log handler; the `log_format` setting on those that write output."""
    logging_plugin = config.pluginmanager.get_plugin("logging-plugin")
    if logging_plugin is None:
        return
    session = harness_session(config)
    handlers = {name: getattr(logging_plugin, name, None) for name in REDACTED}
    install_redaction([h for h in handlers.values() if h is not None], session.redactor)
    for name in FORMATTED:
        handler = handlers[name]
        if handler is not None and handler.formatter is not None:
            handler.setFormatter(HarnessJsonFormatter(handler.formatter, lambda: _wants_json(session)))


def _wants_json(session: HarnessSession) -> bool:
    """`log_format: json` in the run's configuration, read when the first stackharness record is written
    (so runs that never use stackharness never load it). A broken configuration means text here: its
    error is reported where the configuration is needed."""
    try:
        return session.config.log_format == "json"
    except pytest.UsageError:
        return False
