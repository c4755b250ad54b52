"""Agents for tests/evaluate/test_cluster.py, in a module the Dask workers import by name.

(The workers cannot import the test module itself: ``tests`` may name another installed package.)
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

from axon_lab.evaluate import RandomAnalyst
from axon_lab.llm import CachedClient, ScriptedClient

MADE: list[CachedClient] = []  # clients made in this process (a test closes them)
CALLS = {"n": 0}  # analyst calls in this process, across runs


class _Random:
    """RandomAnalyst(rate=0.3, seed=17) that raises KeyboardInterrupt (a Ctrl-C mid-step) on
    the ``crash_at``-th call of this process (0: never)."""

    def __init__(self, crash_at: int) -> None:
        self.inner = RandomAnalyst(rate=0.3, seed=17)
        self.name = self.inner.name
        self.crash_at = crash_at

    def __call__(self, observation: Any) -> Any:
        CALLS["n"] += 1
        if CALLS["n"] == self.crash_at:
            raise KeyboardInterrupt
        return self.inner(observation)


@dataclass(frozen=True)
class CountingRandom:
    """A factory of :class:`_Random` that notes each run it starts in a file (any process)."""

    path: str
    crash_at: int = 0

    def __call__(self) -> _Random:
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(f"{os.getpid()}\n")
        return _Random(self.crash_at)

    def describe(self) -> str:
        return "counting-random(rate=0.3, seed=17)"


def _answer(request: Any) -> str:
    # a deterministic function of the prompt, so windows differ and some trade
    digest = hashlib.sha256(json.dumps(request.messages, default=str).encode()).digest()
    action = ("buy", "hold", "sell")[digest[0] % 3]
    return json.dumps(
        {
            "thought": "scripted",
            "market_assessment": "uptrend" if action == "buy" else "range",
            "risk_assessment": "low",
            "confidence": 0.9,
            "action": action,
            "reason": f"scripted {action}",
        }
    )


@dataclass(frozen=True)
class CachedScripted:
    """An LLM client behind the shared PostgreSQL cache; ``replay`` never calls the model."""

    cache_url: str
    mode: str = "record"

    def __call__(self) -> CachedClient:
        inner = ScriptedClient(_answer if self.mode == "record" else [], model="scripted")
        made = CachedClient(inner, mode=self.mode, store=self.cache_url, endpoint="scripted")
        MADE.append(made)
        return made

    def describe(self) -> str:
        return f"scripted behind the cache ({self.mode})"
