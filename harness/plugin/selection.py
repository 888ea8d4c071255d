"""Which instances get items: the pytest side of `harness.selection` (options and parameters).

`--stack`, `--component` and `--environment-type` are declared in `options.py`; the options
about changes and closure are added here. Every worker computes the same parameters, sorted by
instance id, so their collections are identical.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from harness.errors import HarnessError
from harness.plugin.options import selection as glob_filters
from harness.selection import Selection, select

if TYPE_CHECKING:
    from harness.plugin.session import HarnessSession, UnresolvedItem
    from harness.stacks.model import ComponentInstance, ResolutionProblem


def add_selection_options(parser: pytest.Parser) -> None:
    """The selection options beyond the glob filters."""
    group = parser.getgroup("stackharness")
    group.addoption("--changed", dest="stackharness_changed", action="append", default=[], metavar="ID|FILE",
                    help="only instances affected by this change: an instance id or a file of the stacks "
                         "repository, as `stackharness what-if` sees it (repeatable)")
    group.addoption("--changed-ref", dest="stackharness_changed_ref", default=None, metavar="REF",
                    help="only instances whose configuration differs from git REF of the stacks repository")
    group.addoption("--include-dependencies", dest="stackharness_include_dependencies", action="store_true",
                    help="add every instance the selected ones depend on (transitively)")
    group.addoption("--include-dependents", dest="stackharness_include_dependents", action="store_true",
                    help="add every instance that depends on a selected one (transitively)")


def selection_of(config: pytest.Config) -> Selection:
    """The run's selection from the command line."""
    globs = glob_filters(config)
    return Selection(
        stacks=tuple(globs["stack"]), components=tuple(globs["component"]),
        environment_types=tuple(globs["environment_type"]),
        changed=tuple(config.getoption("stackharness_changed", default=None) or ()),
        changed_ref=config.getoption("stackharness_changed_ref", default=None),
        include_dependencies=bool(config.getoption("stackharness_include_dependencies", default=False)),
        include_dependents=bool(config.getoption("stackharness_include_dependents", default=False)),
    )


def parameters(session: HarnessSession) -> list[ComponentInstance | UnresolvedItem]:
    """Exactly one parameter per id, sorted by id: each selected deployable instance, and each id
    (instance, else manifest) with resolution errors. An error parameter carries all of its id's
    problems and replaces the instance's own, so an instance with problems gets one error item."""
    from harness.plugin.session import UnresolvedItem

    try:
        chosen = select(session.stack_set, selection_of(session.pytest_config), graph=session.graph,
                        config=session.config)
    except HarnessError as exc:
        raise pytest.UsageError(f"stackharness: {exc}") from None
    params: dict[str, Any] = {i.id: i for i in chosen}
    problems: dict[str, list[ResolutionProblem]] = {}
    for problem in session.stack_set.errors:
        key = problem.instance or problem.stack_file or problem.file or "stacks"
        problems.setdefault(key, []).append(problem)
    for key, found in problems.items():
        params[key] = UnresolvedItem(key, tuple(found), params.get(key))
    return [params[key] for key in sorted(params)]
