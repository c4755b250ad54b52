"""A small memo keyed by object identity, for values derived from immutable objects."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

__all__ = ["IdentityMemo"]

K = TypeVar("K")
V = TypeVar("V")


class IdentityMemo(Generic[K, V]):
    """``make(obj)`` computed once per object, for immutable objects seen again and again.

    Keyed by ``id(obj)``; each entry holds ``obj`` itself, which keeps its id from being reused
    by another object while the entry lives. Cleared whole when it reaches ``size`` entries (the
    objects of a hot path recur within a short window). Records are frozen but hashed by value,
    which costs more than it saves here; identity is what "seen again" means.

    Args:
        make: Computes the value of an object.
        size: Most entries kept.
    """

    def __init__(self, make: Callable[[K], V], size: int = 4096) -> None:
        self._make = make
        self._size = size
        self._entries: dict[int, tuple[K, V]] = {}

    def __call__(self, obj: K) -> V:
        """The value of ``obj``, computed now or kept from an earlier call."""
        hit = self._entries.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        value = self._make(obj)
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[id(obj)] = (obj, value)
        return value

    def many(self, objs: Iterable[K]) -> list[V]:
        """``[self(obj) for obj in objs]``, with the lookups inlined (a hot path's bar windows)."""
        entries = self._entries
        out = []
        for obj in objs:
            hit = entries.get(id(obj))
            out.append(hit[1] if hit is not None and hit[0] is obj else self(obj))
        return out

    def __len__(self) -> int:
        return len(self._entries)
