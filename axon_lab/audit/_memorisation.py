"""Memorisation audit: re-run a recorded run on an anonymised copy of its data and compare.

The run is rebuilt from its stored :class:`~axon_lab.oader.AgentConfig`
(:func:`~axon_lab.oader.rebuild_agent`) on the :func:`anonymise_frame` copy of its bars, with its
start shifted as the bars were and its instrument rescaled, for the same number of steps. A model
that reads the numbers decides the same; a model that recalls the real period from the ticker
and the dates loses that edge. The audit reports:

* decision agreement (same action, step by step) and analysis agreement;
* the per-step return difference (original - anonymised) with a stationary-bootstrap interval
  (:func:`axon_lab.evaluate.paired_comparison`), and both total returns;
* every real symbol, date or price level found in the anonymised run's stored prompts (there
  should be none; if there are, the comparison proves nothing and the report says so).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from axon_lab.data import Timeframe
from axon_lab.errors import ConfigError

from ._anonymise import PromptLeak, anonymise_frame, prompt_leaks, real_markers

if TYPE_CHECKING:
    from axon_lab.explain import ExplainStore
    from axon_lab.records import StepRecord

__all__ = ["MemorisationReport", "anonymised_rerun"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MemorisationReport:
    """The result of :func:`anonymised_rerun`.

    Attributes:
        run_id: The original run.
        anonymised_run_id: The re-run on anonymised data.
        alias: The symbol's alias.
        steps: Steps compared.
        decision_agreement: Share of steps with the same decision action.
        analysis_agreement: Share of steps with the same analysis action.
        disagreeing_steps: Steps whose decision action differs.
        original_return: Total return of the original run over the compared steps.
        anonymised_return: Total return of the re-run.
        mean_return_diff: Mean per-step return difference (original - anonymised).
        interval: ``(low, high)`` of that mean at ``level`` (NaN when too few steps).
        level: The interval's coverage.
        prompts_scanned: Stored prompts of the re-run read for real markers.
        leaks: Real markers found in them (should be empty).
        seed: The seed of the anonymisation and the bootstrap.
    """

    run_id: str
    anonymised_run_id: str
    alias: str
    steps: int
    decision_agreement: float
    analysis_agreement: float
    disagreeing_steps: tuple[int, ...]
    original_return: float
    anonymised_return: float
    mean_return_diff: float
    interval: tuple[float, float]
    level: float
    prompts_scanned: int
    leaks: tuple[PromptLeak, ...] = field(default=())
    seed: int | None = None

    def summary(self) -> str:
        """One line for reports."""
        lo, hi = self.interval
        text = (
            f"anonymised re-run ({self.anonymised_run_id}, {self.steps} steps): decision "
            f"agreement {self.decision_agreement:.0%}, analysis agreement "
            f"{self.analysis_agreement:.0%}; return {self.original_return:+.2%} vs "
            f"{self.anonymised_return:+.2%} anonymised; mean step return difference "
            f"{self.mean_return_diff:+.3g} ({self.level:.0%} interval {lo:+.3g} .. {hi:+.3g})"
        )
        if self.leaks:
            text += (
                f"; WARNING: {len(self.leaks)} real marker(s) reached the prompts (first "
                f"{self.leaks[0].marker!r} at step {self.leaks[0].step}): the anonymisation is "
                "incomplete"
            )
        elif self.prompts_scanned:
            text += f"; {self.prompts_scanned} prompts scanned, no real symbol, date or price"
        return text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "run_id": self.run_id,
            "anonymised_run_id": self.anonymised_run_id,
            "alias": self.alias,
            "steps": self.steps,
            "decision_agreement": self.decision_agreement,
            "analysis_agreement": self.analysis_agreement,
            "disagreeing_steps": list(self.disagreeing_steps[:200]),
            "original_return": self.original_return,
            "anonymised_return": self.anonymised_return,
            "mean_return_diff": self.mean_return_diff,
            "interval": [_json_float(v) for v in self.interval],
            "level": self.level,
            "prompts_scanned": self.prompts_scanned,
            "leaks": [{"step": x.step, "marker": x.marker} for x in self.leaks[:50]],
            "seed": self.seed,
            "summary": self.summary(),
        }


def _json_float(v: float) -> float | None:
    return v if math.isfinite(v) else None


def _action(step: StepRecord, part: str) -> str:
    value = getattr(step, part)
    return "none" if value is None else str(value.action.value)


def _returns(steps: list[StepRecord]) -> np.ndarray:
    start = steps[0].equity - steps[0].pnl
    equity = np.array([start, *(s.equity for s in steps)], dtype=np.float64)
    returns: np.ndarray = equity[1:] / equity[:-1] - 1.0
    return returns


def _frame_of(store: ExplainStore, run_id: str, data: Any) -> pd.DataFrame:
    from axon_lab.data import MarketView
    from axon_lab.oader import AgentConfig, load_data

    raw = store.get_run(run_id).config.get("agent")
    if not isinstance(raw, dict):
        raise ConfigError(
            f"run {run_id!r} holds no agent config, so it cannot be re-run; record it again "
            "with make_agent(...)"
        )
    cfg = AgentConfig.model_validate(raw)
    if data is None:
        if cfg.data is None:
            raise ConfigError(
                f"run {run_id!r} was built from a frame; pass data=... (the same bars)"
            )
        frame, _ = load_data(cfg.data)
        return frame
    if isinstance(data, MarketView):
        return data.as_of(data.end, cfg.symbol)
    if isinstance(data, pd.DataFrame):
        return data
    frame, _ = load_data(data)
    return frame


def anonymised_rerun(
    store: ExplainStore,
    run_id: str,
    *,
    analyst: Any = None,
    data: Any = None,
    into: ExplainStore | None = None,
    new_run_id: str | None = None,
    alias: str = "ASSET",
    level: float = 0.95,
    seed: int | None,
) -> MemorisationReport:
    """Re-run ``run_id`` on an anonymised copy of its data and compare with the original.

    Args:
        store: Where the run is recorded.
        run_id: The run.
        analyst: The LLM client for an LLM run (the run's model; a cache in ``record`` mode
            keeps the re-run's answers so it can be replayed).
        data: The run's bars when they were given as a frame.
        into: Where the re-run records (default: ``store``).
        new_run_id: Its id (default: ``<run_id>-anon``).
        alias: The symbol's neutral alias.
        level: Coverage of the return-difference interval.
        seed: Seed of the anonymisation and the bootstrap.

    Returns:
        A :class:`MemorisationReport`.

    Raises:
        ConfigError: If the run cannot be rebuilt (see :func:`~axon_lab.oader.rebuild_agent`)
            or has no steps.
    """
    from axon_lab.evaluate import paired_comparison
    from axon_lab.oader import AgentConfig, rebuild_agent

    original = store.steps(run_id)
    if not original:
        raise ConfigError(f"run {run_id!r} has no steps; run it before auditing it")
    frame = _frame_of(store, run_id, data)
    anon = anonymise_frame(frame, alias=alias, seed=seed)
    cfg = AgentConfig.model_validate(store.get_run(run_id).config["agent"])
    target = into if into is not None else store
    rid = new_run_id or f"{run_id}-anon"
    instrument = cfg.instruments.get(cfg.symbol)
    overrides: dict[str, Any] = {
        "data": anon.frame,
        "start": None if cfg.start is None else anon.time(cfg.start).isoformat(),
        "instruments": None if instrument is None else {alias: anon.instrument(instrument)},
    }
    loop = rebuild_agent(
        store, run_id, analyst=analyst, into=target, new_run_id=rid, overrides=overrides
    )
    loop.run(len(original))  # (loop.close() would close the caller's store)
    rerun = target.steps(rid)
    n = min(len(original), len(rerun))
    if n == 0:
        raise ConfigError(f"the anonymised re-run {rid!r} recorded no steps")
    pairs = list(zip(original[:n], rerun[:n], strict=True))
    same_decision = [_action(a, "decision") == _action(b, "decision") for a, b in pairs]
    same_analysis = [_action(a, "analysis") == _action(b, "analysis") for a, b in pairs]
    r_orig, r_anon = _returns(original[:n]), _returns(rerun[:n])
    interval = (math.nan, math.nan)
    if n >= 2 and np.any(r_orig - r_anon != 0.0):
        compared = paired_comparison(r_orig, r_anon, level=level, seed=seed)
        interval = (compared.interval.low, compared.interval.high)
    elif n >= 2:
        interval = (0.0, 0.0)  # identical returns: the difference is exactly zero
    first, last = pd.Timestamp(original[0].timestamp), pd.Timestamp(original[n - 1].timestamp)
    # the window the run saw: its observations reach back up to `lookback` bars before it
    lookback_span = (cfg.lookback + 1) * Timeframe.parse(cfg.timeframe).delta
    markers = real_markers(frame, start=first - lookback_span, end=last)
    leaks, scanned = prompt_leaks(target, rid, markers)
    return MemorisationReport(
        run_id=run_id,
        anonymised_run_id=rid,
        alias=alias,
        steps=n,
        decision_agreement=float(np.mean(same_decision)),
        analysis_agreement=float(np.mean(same_analysis)),
        disagreeing_steps=tuple(
            a.step for (a, _), ok in zip(pairs, same_decision, strict=True) if not ok
        ),
        original_return=float(np.prod(1.0 + r_orig) - 1.0),
        anonymised_return=float(np.prod(1.0 + r_anon) - 1.0),
        mean_return_diff=float(np.mean(r_orig - r_anon)),
        interval=interval,
        level=level,
        prompts_scanned=scanned,
        leaks=leaks,
        seed=seed,
    )
