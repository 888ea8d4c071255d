"""Log records in a pytest run: redacted on every handler, and `log_format: json` for stackharness's own."""

from __future__ import annotations

import json

SUITE = """
import logging

def test_logs():
    logging.getLogger("harness.suite").warning("connecting with password=hunter2secret")
    logging.getLogger("other").warning("a record of someone else")
    assert False
"""


def test_log_format_json_applies_to_harness_records_and_redaction_stays_on(pytester):
    pytester.makefile(".yaml", stackharness="log_format: json\n")
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("-p", "no:cacheprovider", "--log-file", "run.log", "--log-file-level", "WARNING")
    result.assert_outcomes(failed=1)
    for text in (result.stdout.str(), (pytester.path / "run.log").read_text()):
        assert "hunter2secret" not in text
        entries = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        [entry] = [e for e in entries if e["logger"] == "harness.suite"]
        assert entry["level"] == "WARNING" and entry["logger"] == "harness.suite"
        assert entry["message"] == "connecting with password=[redacted]"
        assert "a record of someone else" in text and '"logger": "other"' not in text   # pytest's format


def test_text_log_format_by_default(pytester):
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["WARNING *harness.suite*connecting with password=[[]redacted]"])
    assert '"logger"' not in result.stdout.str()
