"""Reading stored records back and checking query arguments, for the explain store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

from axon_lab.errors import ConfigError, RecordError, StoreError
from axon_lab.records import Action, Record

__all__ = ["action_of", "aware", "parse_record", "parse_records"]

R = TypeVar("R", bound=Record)


def parse_record(kind: type[R], text: str, what: str) -> R:
    """Read a stored record back, or a StoreError saying the store is not readable."""
    try:
        return kind.from_json(text)
    except RecordError as err:
        raise StoreError(
            f"A stored {what} cannot be read back ({err}); the store was written by an "
            "incompatible axon_lab version or edited by hand."
        ) from err


def parse_records(kind: type[R], texts: Sequence[str], what: str) -> list[R]:
    """:func:`parse_record` of each text."""
    return [parse_record(kind, t, what) for t in texts]


def aware(name: str, value: datetime) -> datetime:
    """``value`` in UTC, or a ConfigError if it is naive."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ConfigError(
            f"{name}={value!r} must be a timezone-aware datetime; pass e.g. "
            f"datetime(2024, 1, 1, tzinfo=timezone.utc)."
        )
    return value.astimezone(UTC)


def action_of(value: Action | str) -> Action:
    """``value`` as an Action, or a ConfigError listing the actions."""
    try:
        return Action(value)
    except ValueError as err:
        choices = ", ".join(repr(a.value) for a in Action)
        raise ConfigError(f"Unknown action {value!r}; use one of {choices}.") from err
