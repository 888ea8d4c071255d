"""Suppressions in a pytest run: the repo's `drift-suppressions.yaml` and `@pytest.mark.expected_drift`.

The file is read once per process (lazily: runs that use no drift fixture never read it); a broken
file makes every drift item an error naming the entry and its file:line, never a pass.
"""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import pytest

from harness.drift.suppressions import Suppression, SuppressionError, from_marker, load_suppressions
from harness.errors import HarnessError
from harness.plugin.session import HarnessSession, harness_session

MARKER = "expected_drift"
MARKER_HELP = (f"{MARKER}(path=GLOB, reason=TEXT, owner=TEXT, expires=YYYY-MM-DD, [instance=, address=, type=, "
               "kind=, ticket=]): accept matching drift in this suite until the date")
_FILE_KEY = pytest.StashKey[tuple[Suppression, ...] | HarnessError]()


def configure(config: pytest.Config) -> None:
    """Register the marker (called from the plugin's pytest_configure)."""
    config.addinivalue_line("markers", MARKER_HELP)


def display_path(path: Path, repo: Path) -> str:
    """A suppressions file named relative to the stacks repo when inside it (stable entry ids)."""
    try:
        return str(path.resolve().relative_to(repo.resolve()))
    except ValueError:
        return str(path)


def file_suppressions(session: HarnessSession) -> tuple[Suppression, ...]:
    """The entries of the run's suppressions file (read once per process); raises on a broken file."""
    stash = session.pytest_config.stash
    if _FILE_KEY not in stash:
        path = session.config.suppressions_path
        try:
            stash[_FILE_KEY] = load_suppressions(path, display=display_path(path, session.config.stacks_repo))
        except HarnessError as exc:
            stash[_FILE_KEY] = exc
    value = stash[_FILE_KEY]
    if isinstance(value, HarnessError):
        raise value
    return value


def marker_suppressions(item: pytest.Item) -> tuple[Suppression, ...]:
    """Entries from every `expected_drift` marker on the item (function, class or module)."""
    entries = []
    for index, marker in enumerate(item.iter_markers(MARKER)):
        if marker.args:
            raise SuppressionError(f"{MARKER} takes keyword arguments only", where=_where(item)[0],
                                   line=_where(item)[1], hint="write expected_drift(path=..., reason=..., ...)")
        where, line = _where(item)
        entry = from_marker(marker.kwargs, where=where, line=line)
        # Two markers on one function share its line: number them so each keeps its own id.
        entries.append(entry if index == 0 else dataclasses.replace(entry, source=f"{entry.source}#{index}"))
    return tuple(entries)


def _where(item: pytest.Item) -> tuple[str, int | None]:
    function = getattr(item, "function", None)
    path = Path(str(item.path))
    try:
        shown = str(path.relative_to(item.config.rootpath))
    except ValueError:
        shown = str(path)
    try:
        line = inspect.getsourcelines(function)[1] if function is not None else None
    except (OSError, TypeError):
        line = None
    return shown, line


def item_suppressions(item: pytest.Item) -> tuple[Suppression, ...]:
    """The suppressions that apply to a drift item: its markers first, then the file's entries."""
    return (*marker_suppressions(item), *file_suppressions(harness_session(item.config)))


@pytest.fixture(scope="session")
def drift_suppressions(request: pytest.FixtureRequest) -> tuple[Suppression, ...]:
    """The run's suppression file entries (an error item when the file is broken)."""
    return file_suppressions(harness_session(request.config))

