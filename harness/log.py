"""One logging setup for the CLI and the plugin, and the redaction every output goes through.

Levels: DEBUG detail, INFO progress, WARNING suspicious but continuing, ERROR a unit of work failed.
Redaction applies to every handler and to every string written into a report: secret access keys,
session tokens, PEM private keys, values of password/secret/token-named keys (each item of a list
value; a quoted value whole, escaped JSON included), and any value registered at run time as
sensitive (for example a state's sensitive attributes).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable
from typing import IO, Any

MASK = "[redacted]"
LOGGER_NAME = "harness"

_PEM_PRIVATE_KEY = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?-----END [A-Z0-9 ]*PRIVATE KEY-----"
# STS session tokens start with a few fixed base64 prefixes and are long.
_SESSION_TOKEN = r"(?:FwoG|FQoG|IQoJ|AQoD|AgoJ)[A-Za-z0-9/+=]{40,}"
# A secret access key is 40 base64 characters; we require mixed case so hex digests (SHA-1) survive.
_SECRET_ACCESS_KEY = (r"(?<![A-Za-z0-9/+])(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[A-Z])"
                      r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
# Values of keys whose name says they are secret: `password=x`, `"token": "x"`, `secret: x`.
_SECRET_WORD = re.compile(r"(?i)password|passwd|secret|token|passphrase|private_?key|credential")
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
# After a key's name: an optional closing quote (escaped too, inside a JSON string), `:` or `=`, then
# the value: in escaped quotes (`\"p\"`), in double quotes (escapes allowed, so escaped JSON is masked
# whole), in single quotes, a flat list (each item masked) or bare. A map under a secret-named key
# (`"credentials": {...}`) is not a secret itself: its own keys and strings are redacted.
_KEY_VALUE_TAIL = re.compile(
    r"""(?:\\?["'])?\s*[:=]\s*(?:\\"(?P<escaped>[^"\\\n]*)|"(?P<double>(?:[^"\\\n]|\\.)*)"""
    r"""|'(?P<single>[^'\n]*)|(?P<list>\[(?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\[\]{}"'])*\])"""
    r"""|(?P<bare>[^\s,;}\]"'\[{][^\s,;}\]"']*))""")
_LIST_ITEM = re.compile(r"""\\"(?P<escaped>[^"\\\n]*)(?:\\")?|"(?P<double>(?:[^"\\\n]|\\.)*)"?"""
                        r"""|'(?P<single>[^'\n]*)'?|(?P<bare>[^\s,\[\]"']+)""")
# Keys naming an identifier or a property of a secret (`secret_id`, `SecretArn`, `token_expires_at`).
_NOT_SECRET_SUFFIX = re.compile(
    r"(?i)(?:id|ids|arn|arns|name|names|kind|type|count|days|policy|store|at|date|enabled|sink|manager)$")


def is_secret_key(name: str) -> bool:
    """True when a key's name says its value is a secret (`password`, `SessionToken`, ...)."""
    return (bool(name) and all(c in _NAME_CHARS for c in name) and _SECRET_WORD.search(name) is not None
            and not _NOT_SECRET_SUFFIX.search(name))


def mask_keyed_values(text: str) -> str:
    """Mask the value after every secret-named key (`password=x` -> `password=[redacted]`).

    Works from the (rare) occurrences of a secret word outwards instead of trying a pattern at every
    position, so its cost follows the number of hits, not the size of the text.
    """
    pieces: list[str] = []
    done = 0
    for hit in _SECRET_WORD.finditer(text):
        if hit.start() < done:
            continue
        start, end = hit.start(), hit.end()
        while start > 0 and text[start - 1] in _NAME_CHARS:
            start -= 1
        while end < len(text) and text[end] in _NAME_CHARS:
            end += 1
        if start > 0 and text[start - 1] in ":/":  # a part of an ARN or a path, not a key
            continue
        tail = _KEY_VALUE_TAIL.match(text, end)
        if tail is None or tail.group(tail.lastgroup) == MASK or not is_secret_key(text[start:end]):
            continue                     # (an already masked value stays as it is: redaction is idempotent)
        items = (tail,) if tail.lastgroup != "list" else \
            _LIST_ITEM.finditer(text, tail.start("list") + 1, tail.end("list") - 1)
        for item in items:
            group = item.lastgroup           # the one alternative that matched: the value
            pieces += [text[done:item.start(group)], MASK]
            done = item.end(group)
    return "".join(pieces) + text[done:] if pieces else text


class Redactor:
    """Masks secrets in text and in structured data; values can be registered while the run goes on.

    Thread-safe: workers of a run register sensitive state values while other threads log.
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._values_re: re.Pattern[str] | None = None
        self._static = [
            (re.compile(_PEM_PRIVATE_KEY, re.DOTALL), lambda m: MASK),
            (re.compile(_SESSION_TOKEN), lambda m: MASK),
            (re.compile(_SECRET_ACCESS_KEY), lambda m: MASK),
        ]
        for value in values:
            self.register(value)

    def register(self, value: Any) -> None:
        """Treat `value` (a string, or every string inside a structure) as secret from now on."""
        for text in _strings_in(value):
            # Very short values would mask ordinary words; they are still masked where a
            # sensitive attribute is shown, by the comparison itself.
            if len(text) >= 4 and text not in self._values:
                with self._lock:
                    self._values.add(text)
                    self._values_re = None

    @property
    def registered(self) -> int:
        """How many values are registered (for diagnostics; never the values themselves)."""
        return len(self._values)

    def is_registered(self, text: str) -> bool:
        """True when `text` is exactly a registered secret."""
        return text in self._values

    def redact(self, text: str) -> str:
        """Return `text` with every known and recognisable secret replaced by the mask."""
        if not text:
            return text
        pattern = self._registered_pattern()
        if pattern is not None:
            text = pattern.sub(MASK, text)
        for regex, repl in self._static:
            text = regex.sub(repl, text)
        return mask_keyed_values(text)

    def redact_known(self, text: str) -> str:
        """`text` with only the registered values masked: a fast pass for large outputs (such as the
        HTML report) assembled from data that already went through `redact`/`redact_obj`."""
        pattern = self._registered_pattern()
        return pattern.sub(MASK, text) if text and pattern is not None else text

    def redact_obj(self, obj: Any) -> Any:
        """A copy of a JSON-like structure with secret-named keys and secret strings masked."""
        if isinstance(obj, dict):
            return {k: (self._mask_secret(v) if isinstance(k, str) and is_secret_key(k)
                        else self.redact_obj(v)) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [self.redact_obj(v) for v in obj]
        if isinstance(obj, str):
            return self.redact(obj)
        return obj

    def _mask_secret(self, value: Any) -> Any:
        """The value of a secret-named key: strings masked, also inside lists; maps redacted as usual."""
        if _is_scalar_secret(value):
            return MASK
        if isinstance(value, list | tuple):
            return [self._mask_secret(v) for v in value]
        return self.redact_obj(value)

    def _registered_pattern(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._values_re is None and self._values:
                alternatives = sorted(self._values, key=len, reverse=True)
                self._values_re = re.compile("|".join(re.escape(v) for v in alternatives))
            return self._values_re


def _is_scalar_secret(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _strings_in(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings_in(v)
    elif isinstance(value, list | tuple | set):
        for v in value:
            yield from _strings_in(v)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)


class RedactionFilter(logging.Filter):
    """Renders each record's message (and traceback) once, redacted, before any handler sees it."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__("")
        self.redactor = redactor
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        # Idempotent: several handlers (each with its run's redactor) may see the same record.
        record.msg = self.redactor.redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self._formatter.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = self.redactor.redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and traceback when present)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["traceback"] = record.exc_text
        return json.dumps(entry, sort_keys=False)


class HarnessJsonFormatter(logging.Formatter):
    """JSON lines for the records of the `harness` logger tree when `wanted()` says so, every other
    record as `fallback` formats it: for handlers shared with other code (pytest's).

    `wanted` is asked once, at the first `harness` record (a record logged while it decides is text).
    """

    def __init__(self, fallback: logging.Formatter, wanted: Callable[[], bool]) -> None:
        super().__init__()
        self.fallback = fallback
        self._wanted = wanted
        self._json = JsonFormatter()
        self._decided: bool | None = None

    def format(self, record: logging.LogRecord) -> str:
        ours = record.name == LOGGER_NAME or record.name.startswith(LOGGER_NAME + ".")
        return self._json.format(record) if ours and self._as_json() else self.fallback.format(record)

    def _as_json(self) -> bool:
        if self._decided is None:
            self._decided = False
            self._decided = bool(self._wanted())
        return self._decided


def use_colour(stream: IO[str]) -> bool:
    """Colour only on a TTY, and never when NO_COLOR is set (https://no-color.org)."""
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def level_for(verbose: int = 0, quiet: int = 0) -> int:
    """Map -v/-q counts to a level: default INFO, -v DEBUG, -q WARNING, -qq ERROR."""
    steps = [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR]
    return steps[max(0, min(len(steps) - 1, 1 - verbose + quiet))]


def install_redaction(handlers: Iterable[logging.Handler], redactor: Redactor) -> None:
    """Attach the redaction filter to handlers (idempotent per handler)."""
    for handler in handlers:
        if not any(isinstance(f, RedactionFilter) for f in handler.filters):
            handler.addFilter(RedactionFilter(redactor))


def setup_logging(redactor: Redactor, *, verbose: int = 0, quiet: int = 0, log_format: str = "text",
                  stream: IO[str] | None = None, log_file: str | None = None) -> logging.Logger:
    """Configure the root logger for a CLI run: one stderr handler (plus an optional file), redacted.

    Returns the `harness` logger. Third-party libraries log at WARNING and above only.
    """
    from harness.errors import ConfigError

    if log_format not in ("text", "json"):
        raise ConfigError(f"unknown log format {log_format!r}", hint="use --log-format text or json")
    stream = stream or sys.stderr
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_stackharness", False):
            root.removeHandler(handler)
    handlers: list[logging.Handler] = []
    if log_format == "json":
        console: logging.Handler = logging.StreamHandler(stream)
        console.setFormatter(JsonFormatter())
    elif use_colour(stream):
        from rich.console import Console
        from rich.logging import RichHandler

        console = RichHandler(console=Console(file=stream), show_path=False, rich_tracebacks=False,
                              markup=False)
    else:
        console = logging.StreamHandler(stream)
        console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handlers.append(console)
    if log_file:
        file_handler = logging.FileHandler(log_file, encoding="utf-8")
        file_handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handlers.append(file_handler)
    for handler in handlers:
        handler._stackharness = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    install_redaction(root.handlers, redactor)
    level = level_for(verbose, quiet)
    root.setLevel(min(level, logging.WARNING))
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(level)
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "moto", "s3transfer"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    return logger
