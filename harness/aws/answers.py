"""Error codes that answer a question rather than fail a call.

`GetBucketTagging` answers `NoSuchTagSet` for a bucket without tags; a lock file read may answer
`NoSuchKey` when the lock was released meanwhile. A caller that treats such codes as data says so
with `answer_codes(...)`; the meter then counts the call as `ok`, not `failed`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_ANSWERS: ContextVar[frozenset[str]] = ContextVar("stackharness_answer_codes", default=frozenset())


@contextmanager
def answer_codes(codes: Iterable[str]) -> Iterator[None]:
    """Within the block, AWS error responses with these codes count as answers, not failures."""
    token = _ANSWERS.set(_ANSWERS.get() | frozenset(codes))
    try:
        yield
    finally:
        _ANSWERS.reset(token)


def is_answer(parsed: Mapping[str, Any] | None) -> bool:
    """Whether a parsed error response carries a code the current caller expects as an answer."""
    code = ((parsed or {}).get("Error") or {}).get("Code")
    return code is not None and code in _ANSWERS.get()
