"""A counter split by one label, e.g. risk rejections by rule.

Examples:
    >>> rejects = LabeledCounter("risk_rejects", label="rule")
    >>> rejects.inc("max_order_notional")
    1
    >>> rejects.inc("max_order_notional"), rejects.total
    (2, 2)
    >>> dict(rejects.values())
    {'max_order_notional': 2}
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from axon_lab.errors import ConfigError

__all__ = ["LabeledCounter"]


class LabeledCounter:
    """A monotonically increasing count per label value; safe to read from another thread.

    Args:
        name: Metric name (``snake_case``).
        label: The label's name, e.g. ``"rule"``.
        description: One line on what is counted.
    """

    def __init__(self, name: str, *, label: str, description: str = "") -> None:
        self.name = name
        self.label = label
        self.description = description
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def inc(self, value: str, amount: int = 1) -> int:
        """Add ``amount`` to the count of label ``value`` and return the new count.

        Raises:
            ConfigError: If ``amount`` is negative (counters never go down).
        """
        if amount < 0:
            raise ConfigError(f"counter {self.name!r} cannot decrease (amount={amount!r})")
        with self._lock:
            self._counts[value] = self._counts.get(value, 0) + amount
            return self._counts[value]

    def get(self, value: str) -> int:
        """The count of label ``value`` (0 if never seen)."""
        with self._lock:
            return self._counts.get(value, 0)

    def values(self) -> Mapping[str, int]:
        """A copy of all counts, by label value."""
        with self._lock:
            return dict(self._counts)

    @property
    def total(self) -> int:
        """The sum over all label values."""
        with self._lock:
            return sum(self._counts.values())

    def __repr__(self) -> str:
        return f"LabeledCounter({self.name!r}, label={self.label!r}, total={self.total})"
