"""User-caused errors. Each message says what went wrong, where, and what to do."""

from __future__ import annotations

from pathlib import Path


class HarnessError(Exception):
    """Base of every error a user can cause; the CLI prints it on one line and exits 2."""

    def __init__(self, what: str, *, where: str | Path | None = None, line: int | None = None,
                 hint: str | None = None) -> None:
        self.what = what
        self.where = str(where) if where is not None else None
        self.line = line
        self.hint = hint
        super().__init__(self.message)

    @property
    def location(self) -> str | None:
        """`file:line` (or just the file, or None) for the place the error points at."""
        if self.where is None:
            return None
        return f"{self.where}:{self.line}" if self.line else self.where

    @property
    def message(self) -> str:
        parts = [f"{self.location}: {self.what}" if self.location else self.what]
        if self.hint:
            parts.append(self.hint)
        return " — ".join(parts)

    def __str__(self) -> str:
        return self.message


class ConfigError(HarnessError):
    """Invalid harness configuration (stackharness.yaml, pyproject, environment, flags)."""


class StackError(HarnessError):
    """An Atmos repository that cannot be resolved (YAML, imports, inheritance, names)."""


class StateError(HarnessError):
    """A Terraform state that is missing, unreadable or of an unsupported version."""


class AwsAccessError(HarnessError):
    """An AWS call that could not be made or was refused (budget, read-only guard, access)."""


class UsageError(HarnessError):
    """Bad command-line usage."""


class ApiBudgetExceeded(AwsAccessError):
    """The run's `--api-budget` is spent; what was not checked is reported as an error, never clean."""


class ReadOnlyViolation(AwsAccessError):
    """A mutating AWS call attempted while the read-only guard is installed."""


def yaml_problem(exc: Exception) -> tuple[str, int | None]:
    """`("invalid YAML: <problem>", line)` for a PyYAML error; the line is 1-based, None when unknown."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    what = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
    return f"invalid YAML: {what}", mark.line + 1 if mark is not None else None
