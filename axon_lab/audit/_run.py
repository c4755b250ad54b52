"""run_audit: every audit of a recorded run in one call (what ``axon-lab audit`` runs).

It rebuilds what each audit needs from the run's stored :class:`~axon_lab.oader.AgentConfig`:

* the training cutoff of the run's model (the run's own, else the registry's) and the class of
  its window;
* the look-ahead check of its Analyze stage (the rules analyst, or the LLM analyst when a client
  is given), at decision times inside the run's window;
* the counterfactual sensitivity of that stage (:func:`check_sensitivity`) at the same times;
* the anonymised re-run (:func:`anonymised_rerun`), recorded in the same store;
* decision stability (:func:`check_stability`).

An audit that cannot run (an LLM run without a client, a custom analyst) is listed under
``not_run`` with the reason; one that fails is listed there with its error. Nothing is skipped
silently.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from axon_lab.errors import AxonError, ConfigError

from ._cutoffs import CutoffRegistry, classify_window, load_cutoffs
from ._lookahead import StageContext, check_lookahead
from ._memorisation import anonymised_rerun
from ._sensitivity import check_sensitivity
from ._stability import check_stability

if TYPE_CHECKING:
    from axon_lab.explain import ExplainStore

__all__ = ["run_audit"]


def _analyze_builder(cfg: Any, analyst: Any) -> Callable[[StageContext], Any] | None:
    from axon_lab.oader import ReActAnalyzer, RulesAnalyst

    if cfg.analyst == "rules":
        return lambda ctx: RulesAnalyst(symbol=cfg.symbol)
    if cfg.analyst == "llm" and analyst is not None:
        return lambda ctx: ReActAnalyzer(
            analyst, ctx.tools, max_iterations=cfg.max_iterations, **cfg.llm_params
        )
    return None


def run_audit(
    store: ExplainStore,
    run_id: str,
    *,
    data: pd.DataFrame | None = None,
    analyst: Any = None,
    n_times: int = 5,
    n_steps: int = 5,
    n_samples: int = 5,
    registry: CutoffRegistry | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Run the audits of ``run_id``; return JSON-ready results (see the module docstring).

    Args:
        store: Where the run is recorded.
        run_id: The run.
        data: The run's bars (needed when it was built from a frame or a file).
        analyst: The LLM client of an LLM run (without it the LLM audits are listed as not run).
        n_times: Decision times of the look-ahead check.
        n_steps: Steps re-sampled for stability.
        n_samples: Samples per step.
        registry: The cutoff registry (default: :func:`load_cutoffs`).
        seed: Seed of every audit.

    Raises:
        ConfigError: If the run holds no agent config or no steps.
    """
    from axon_lab.oader import AgentConfig, load_data

    info = store.get_run(run_id)
    raw = info.config.get("agent")
    if not isinstance(raw, dict):
        raise ConfigError(
            f"run {run_id!r} holds no agent config (recorded before axon_lab stored one), so it "
            "cannot be audited; record it again with make_agent(...)"
        )
    cfg = AgentConfig.model_validate(raw)
    steps = store.steps(run_id)
    if not steps:
        raise ConfigError(f"run {run_id!r} has no steps; run it before auditing it")
    if data is None and cfg.data is not None:
        data, _ = load_data(cfg.data)
    results: dict[str, Any] = {
        "run_id": run_id,
        "model": info.model,
        "seed": seed,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "not_run": {},
    }
    not_run: dict[str, str] = results["not_run"]
    first, last = steps[0].timestamp, steps[-1].timestamp

    reg = registry if registry is not None else load_cutoffs()
    cutoff = info.model_cutoff or reg.cutoff(info.model)
    if cfg.analyst == "rules":
        results["cutoff"] = {"summary": "rules analyst: no training data, nothing to memorise"}
    else:
        window = classify_window(first, last, cutoff)
        entry = reg.find(info.model)
        results["cutoff"] = {
            "model": info.model,
            "cutoff": None if cutoff is None else cutoff.isoformat(),
            "source": "run" if info.model_cutoff else (entry.source if entry else None),
            "window": window,
            "summary": (
                f"{info.model}: training cutoff {cutoff or 'unknown (not in the registry)'}; "
                f"the window {first.date()} .. {last.date()} is {window} it"
                + ("" if cutoff is not None else "; pass the run's model_cutoff to class it")
            ),
        }
    if data is None:
        reason = "the run was built from a frame or a file; pass its data (--data)"
        for key in ("lookahead", "sensitivity", "memorisation", "stability"):
            not_run[key] = reason
        return results
    needs_model = cfg.analyst == "llm" and analyst is None
    model_reason = f"the run used the LLM {cfg.model!r}; pass a client (--llm local|openai)"
    build = _analyze_builder(cfg, analyst)
    if build is None:
        not_run["lookahead"] = not_run["sensitivity"] = (
            model_reason if needs_model else f"the custom analyst {cfg.model!r} cannot be rebuilt"
        )
    else:
        times = [s.timestamp for s in steps]
        pool = [t for t in times if pd.Timestamp(t) < pd.Timestamp(data.index[-1])]
        pick = pd.Series(pool).sample(min(n_times, len(pool)), random_state=seed).tolist()
        try:
            report = check_lookahead(
                build, data, times=pick, lookback=cfg.lookback, cash=cfg.cash, seed=seed
            )
            results["lookahead"] = report.to_dict()
        except AxonError as exc:
            not_run["lookahead"] = f"failed: {exc}"
        try:
            moved = check_sensitivity(
                build, data, times=pick, lookback=cfg.lookback, cash=cfg.cash, seed=seed
            )
            results["sensitivity"] = moved.to_dict()
        except AxonError as exc:
            not_run["sensitivity"] = f"failed: {exc}"
    if needs_model or cfg.not_rebuildable:
        reason = model_reason if needs_model else "; ".join(cfg.not_rebuildable)
        not_run["memorisation"] = not_run["stability"] = reason
        return results
    try:
        anon_id = f"{run_id[:40]}-anon-{secrets.token_hex(3)}"
        memo = anonymised_rerun(
            store, run_id, analyst=analyst, data=data, new_run_id=anon_id, seed=seed
        )
        results["memorisation"] = memo.to_dict()
    except AxonError as exc:
        not_run["memorisation"] = f"failed: {exc}"
    try:
        stability = check_stability(
            store,
            run_id,
            analyst=analyst,
            data=data,
            n_steps=n_steps,
            n_samples=n_samples,
            seed=seed,
        )
        results["stability"] = stability.to_dict()
    except AxonError as exc:
        not_run["stability"] = f"failed: {exc}"
    return results
