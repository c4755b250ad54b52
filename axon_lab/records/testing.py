"""Checks for code that builds records without re-validating them (``model_construct``).

Hot paths (the risk chain, the backends) lay records out directly when every value is plainly
valid. Such a builder is correct only if, for every input, it gives exactly what the validating
constructor gives: the same record (type, value, JSON, fields set, field order) or the same error.
:func:`outcome` and :func:`assert_same_outcome` state that, for property tests.

Examples:
    >>> from axon_lab.records import Position
    >>> slow = outcome(Position, symbol="X", quantity=1.0, avg_price=2.0, mark_price=3.0)
    >>> fast = outcome(Position.model_construct, symbol="X", quantity=1.0, avg_price=2.0,
    ...                mark_price=3.0)
    >>> assert_same_outcome(fast, slow)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Outcome", "assert_same_outcome", "outcome"]

Outcome = tuple[str, Any]
"""``("ok", record)`` or ``("error", "ExceptionType: message")``."""


def outcome(build: Callable[..., Any], *args: Any, **kwargs: Any) -> Outcome:
    """Call ``build`` and return what came of it: the record, or the error as text."""
    try:
        record = build(*args, **kwargs)
    except Exception as exc:  # compared with the validating constructor's error
        return "error", f"{type(exc).__name__}: {exc}"
    return "ok", record


def assert_same_outcome(fast: Outcome, slow: Outcome) -> None:
    """Fail unless ``fast`` is exactly ``slow``: the same error, or an identical record.

    Raises:
        AssertionError: Naming what differs.
    """
    if fast[0] != slow[0]:
        raise AssertionError(f"one built a record, the other failed: {fast!r} vs {slow!r}")
    if fast[0] == "error":
        if fast[1] != slow[1]:
            raise AssertionError(f"different errors: {fast[1]!r} vs {slow[1]!r}")
        return
    a, b = fast[1], slow[1]
    checks = {
        "type": (type(a), type(b)),
        "value": (a, b),
        "JSON": (a.model_dump_json(), b.model_dump_json()),
        "fields set": (a.model_fields_set, b.model_fields_set),
        "field order": (list(a.__dict__), list(b.__dict__)),
    }
    for what, (x, y) in checks.items():
        if x != y:
            raise AssertionError(f"different {what}: {x!r} vs {y!r}")
