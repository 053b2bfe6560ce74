"""Deterministic renders (the style set's drawings, printed and typeface glyphs), computed once per process.

One training run renders the same forms in several steps (the training data, the digit check's thresholds
and its letters), and a process that trains more than once (the test suite, a search) renders them again.
What they return depends only on their arguments, so each is computed once and handed out read-only: a
caller that changes a cached array in place fails loudly instead of changing what the next caller gets.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

Render = TypeVar("Render", bound=Callable[..., Any])
KEPT = 4  # the last few argument sets per function (a full-size letter set is about 20 MB)


def rendered_once(function: Render) -> Render:
    """`function`, computed once per set of arguments (lists count as tuples); each call gets its own dicts,
    lists and tuples around the shared, read-only arrays."""
    cached = functools.lru_cache(maxsize=KEPT)(lambda *args, **kwargs: _frozen(function(*args, **kwargs)))

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        args = tuple(_hashable(value) for value in args)
        kwargs = {name: _hashable(value) for name, value in kwargs.items()}
        return _fresh(cached(*args, **kwargs))

    return wrapper  # type: ignore[return-value]


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _frozen(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        value.setflags(write=False)
    elif isinstance(value, dict):
        for item in value.values():
            _frozen(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _frozen(item)
    return value


def _fresh(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _fresh(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_fresh(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_fresh(item) for item in value)
    return value
