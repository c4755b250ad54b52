"""An evaluation split by the model's training cutoff: before, spanning, after.

An LLM may have memorised the prices of a window that ends before its training cutoff; what it
"earns" there is no evidence of skill. :func:`split_by_cutoff` classes each window against the
cutoff (:func:`~axon_lab.audit.classify_window`) and compares the agent with buy-and-hold within
each class, so a report can show the after-cutoff windows on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from axon_lab.errors import ConfigError, EvaluationError
from axon_lab.evaluate._paired import PairedComparison, paired_comparison
from axon_lab.evaluate._results import Evaluation

__all__ = ["CutoffSplit", "split_by_cutoff"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CutoffSplit:
    """One class of windows relative to the cutoff, and how the agent did there.

    Attributes:
        window_class: ``"before"``, ``"spanning"``, ``"after"`` or ``"unknown"``.
        n_windows: Windows in the class.
        labels: Their labels.
        mean_excess: Mean of (agent's return - buy-and-hold's) over those windows.
        comparison: The paired comparison with its interval (None below 2 windows).
        note: Why there is no comparison, if there is none.
    """

    window_class: str
    n_windows: int
    labels: tuple[str, ...]
    mean_excess: float
    comparison: PairedComparison | None
    note: str = ""


def split_by_cutoff(
    evaluation: Evaluation,
    agent: str,
    cutoff: date | None,
    *,
    baseline: str = "buy_and_hold",
    level: float = 0.95,
    seed: int | None = None,
) -> tuple[CutoffSplit, ...]:
    """``agent`` against ``baseline`` within each class of windows relative to ``cutoff``.

    Raises:
        ConfigError: If ``agent`` or ``baseline`` is not in the evaluation.
    """
    from axon_lab.audit import classify_window  # (audit uses evaluate's statistics)

    if agent not in evaluation.agents or baseline not in evaluation.agents:
        raise ConfigError(
            f"split_by_cutoff compares agents of this evaluation ({list(evaluation.agents)}); "
            f"got {agent!r} against {baseline!r}"
        )
    ours = evaluation.window_returns(agent)
    theirs = evaluation.window_returns(baseline)
    mine = evaluation.results[evaluation.results["agent"] == agent]
    bounds = {  # the window as the agent traded it: its first and last decision
        str(label): (pd.Timestamp(start).date(), pd.Timestamp(end).date())
        for label, start, end in mine[["label", "start", "end"]].itertuples(index=False)
    }
    classes: dict[str, list[int]] = {}
    for i, w in enumerate(evaluation.windows):
        first, last = bounds[w.label]
        classes.setdefault(classify_window(first, last, cutoff), []).append(i)
    out = []
    for name in ("before", "spanning", "after", "unknown"):
        idx = classes.get(name)
        if not idx:
            continue
        a, b = ours[idx], theirs[idx]
        comparison, note = None, ""
        if len(idx) >= 2:
            try:
                comparison = paired_comparison(
                    a, b, level=level, seed=evaluation.seed if seed is None else seed
                )
            except EvaluationError as exc:
                note = str(exc)
        else:
            note = "one window: no interval"
        out.append(
            CutoffSplit(
                window_class=name,
                n_windows=len(idx),
                labels=tuple(evaluation.windows[i].label for i in idx),
                mean_excess=float(np.mean(a - b)),
                comparison=comparison,
                note=note,
            )
        )
    return tuple(out)
