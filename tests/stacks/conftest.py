"""Helpers for stack-resolution tests: small Atmos repositories written into tmp_path."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.atmos import atmos_yaml

DEFAULT_ATMOS = atmos_yaml(name_pattern="{tenant}-{environment}-{stage}")

RepoFactory = Callable[..., Path]


def write_repo(root: Path, files: dict[str, str], atmos: str | None = DEFAULT_ATMOS) -> Path:
    """Write `atmos.yaml` (unless None) and `files` (path -> YAML text, dedented) under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    if atmos is not None:
        (root / "atmos.yaml").write_text(textwrap.dedent(atmos))
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text))
    return root


@pytest.fixture
def make_repo(tmp_path: Path) -> RepoFactory:
    """`make_repo({"stacks/deploy/dev.yaml": "..."}, atmos=...)` -> the repository folder."""
    counter = iter(range(1000))

    def factory(files: dict[str, str], atmos: str | None = DEFAULT_ATMOS) -> Path:
        return write_repo(tmp_path / f"repo{next(counter)}", files, atmos)

    return factory
