"""Mode 3, RL fallback: when the LLM times out, fails, abstains or is unsure, the RL policy decides.

:class:`RLFallback` offers both OADER stages it touches:

* ``analyze`` (Analyze stage) runs the LLM analysis in a worker thread with a deadline, so the
  timeout holds even if the client hangs and ignores its own timeout (the abandoned thread is a
  daemon and finishes, or not, on its own). On a timeout, an exception, an abstention or a
  confidence under ``min_confidence`` it returns the RL policy's analysis instead, marked with
  ``analyst="fallback:<reason>:<rl name>"`` and keeping the failed attempt's LLM calls;
  ``BudgetExceededError`` and ``CacheMissError`` propagate (they are run settings to fix, not
  outages to ride through).
* ``decide`` (Decide stage) sizes the analysis with the decision engine and labels a fallback
  decision ``source=fallback`` (the LLM's own decisions keep their source).

:meth:`RLFallback.stats` counts LLM decisions and fallbacks by reason.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from axon_lab.errors import BudgetExceededError, CacheMissError, ConfigError, LLMTimeoutError
from axon_lab.records import (
    Analysis,
    AnalysisSource,
    Decision,
    DecisionSource,
    Observation,
    ReasoningStep,
)
from axon_lab.rl._policy import RLPolicy

__all__ = ["FALLBACK_REASONS", "RLFallback", "call_with_deadline"]

FALLBACK_REASONS = ("timeout", "error", "abstain", "low_confidence")
"""Why the RL policy took over, as counted by :meth:`RLFallback.stats`."""

_T = TypeVar("_T")
_PREFIX = "fallback:"


def call_with_deadline(fn: Callable[[Any], _T], arg: Any, timeout_s: float) -> _T:
    """Run ``fn(arg)`` in a daemon worker thread; give up after ``timeout_s`` seconds.

    Raises:
        LLMTimeoutError: If ``fn`` has not returned in time (it keeps running in its thread).
        Exception: Whatever ``fn`` raised.

    Examples:
        >>> call_with_deadline(lambda x: x + 1, 1, timeout_s=1.0)
        2
    """
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = fn(arg)
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="axon-llm-deadline", daemon=True).start()
    if not done.wait(timeout_s):
        raise LLMTimeoutError(
            f"The LLM analysis did not finish within {timeout_s:g} s; the RL policy decides. "
            "Raise timeout_s if the model is just slow."
        )
    if "error" in box:
        raise box["error"]
    value: _T = box["value"]
    return value


class RLFallback:
    """LLM first, the RL policy when the LLM is unavailable or unsure (see the module docstring).

    Args:
        llm: The LLM Analyze stage, any callable ``observation -> Analysis``.
        rl: The :class:`~axon_lab.rl.RLPolicy`.
        timeout_s: Deadline of one LLM analysis, in seconds (> 0).
        min_confidence: Under this LLM confidence the RL policy decides.
        engine: Decide stage ``(analysis, observation) -> Decision``; default a
            :class:`~axon_lab.oader.DecisionEngine` with its default settings.
    """

    def __init__(
        self,
        llm: Callable[[Observation], Analysis],
        rl: RLPolicy,
        *,
        timeout_s: float,
        min_confidence: float,
        engine: Callable[[Analysis, Observation], Decision] | None = None,
    ) -> None:
        if not timeout_s > 0:
            raise ConfigError(f"timeout_s={timeout_s!r} must be > 0 seconds.")
        if not 0.0 <= min_confidence <= 1.0:
            raise ConfigError(f"min_confidence={min_confidence!r} must be in [0, 1].")
        if engine is None:
            from axon_lab.oader import DecisionEngine

            engine = DecisionEngine()
        self.llm = llm
        self.rl = rl
        self.timeout_s = float(timeout_s)
        self.min_confidence = float(min_confidence)
        self.engine = engine
        self._counts: Counter[str] = Counter()

    # ------------------------------------------------------------------ Analyze
    def analyze(self, observation: Observation) -> Analysis:
        """The LLM's analysis, or the RL policy's when the LLM fails or is unsure."""
        failed: Analysis | None = None
        try:
            analysis = call_with_deadline(self.llm, observation, self.timeout_s)
        except LLMTimeoutError as exc:
            return self._fallback(observation, "timeout", str(exc), None)
        except (BudgetExceededError, CacheMissError):
            raise
        except Exception as exc:  # any outage of the LLM path is what the fallback is for
            return self._fallback(observation, "error", f"{type(exc).__name__}: {exc}", None)
        if analysis.source is AnalysisSource.ABSTAIN:
            failed = analysis
            return self._fallback(observation, "abstain", analysis.reason, failed)
        if analysis.confidence < self.min_confidence:
            why = f"LLM confidence {analysis.confidence:.2f} < {self.min_confidence:g}"
            return self._fallback(observation, "low_confidence", why, analysis)
        self._counts["llm"] += 1
        return analysis

    def _fallback(
        self, observation: Observation, reason: str, detail: str, failed: Analysis | None
    ) -> Analysis:
        self._counts[reason] += 1
        rl = self.rl.analysis(observation)
        return rl.replace(
            analyst=f"{_PREFIX}{reason}:{self.rl.name}",
            reason=f"RL fallback ({reason}: {detail}); {rl.reason}",
            llm_calls=failed.llm_calls if failed is not None else (),
            reasoning_steps=(
                ReasoningStep(thought=f"LLM path failed ({reason}): {detail}"),
                *rl.reasoning_steps,
            ),
        )

    # ------------------------------------------------------------------ Decide
    def decide(self, analysis: Analysis, observation: Observation) -> Decision:
        """Size the analysis; a fallback's decision is labelled ``source=fallback``."""
        decision = self.engine(analysis, observation)
        if analysis.analyst.startswith(_PREFIX) and decision.source is not DecisionSource.ABSTAIN:
            reason = analysis.analyst.split(":")[1]
            return decision.replace(
                source=DecisionSource.FALLBACK, reason=f"RL fallback ({reason}): {decision.reason}"
            )
        return decision

    def __call__(self, observation: Observation) -> Decision:
        """Analyse and decide in one call (``observation -> Decision``)."""
        return self.decide(self.analyze(observation), observation)

    def stats(self) -> dict[str, int]:
        """Counts: ``llm`` decisions, ``fallback`` in total and per reason."""
        out = {"llm": self._counts["llm"]}
        out["fallback"] = sum(self._counts[r] for r in FALLBACK_REASONS)
        out.update({r: self._counts[r] for r in FALLBACK_REASONS})
        return out
