"""The numbers of an evaluation, read back from the explain store (and the vectorized baselines).

Per window and agent: total return ``equity[-1] / cash - 1`` (equity marked at the close of the
window's last decision bar), the annualised Sharpe ratio of the per-step returns
(``equity[t] / equity[t-1] - 1`` with the cash before the first step; NaN when constant), the
maximum drawdown, the fills and the share of steps that traded. Everything is read from the
stored runs, so a resumed evaluation gives the same numbers as an uninterrupted one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from axon_lab.errors import ConfigError
from axon_lab.evaluate._spec import EvalWindow, trade_rate, window_run_id

__all__ = ["BASELINES", "Evaluation", "buy_and_hold_equity", "collect_results"]

BASELINES = ("buy_and_hold", "flat", "rules", "random")
RESULT_COLUMNS = (
    "agent",
    "draw",
    "symbol",
    "window",
    "label",
    "run_id",
    "start",
    "end",
    "n_steps",
    "total_return",
    "sharpe",
    "max_drawdown",
    "n_fills",
    "trade_rate",
)


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Evaluation:
    """What :func:`~axon_lab.evaluate.evaluate` returns.

    Attributes:
        evaluation_id: The id shared by every run of the evaluation.
        agents_under_test: Names of the agents under test, in the order given.
        windows: The windows, symbol by symbol, in time order.
        results: One row per (agent, draw, window): ``RESULT_COLUMNS``. The random baseline has
            one row per draw (``agent="random"``, ``draw`` = 0..n-1); other rows have draw -1.
        equity: Equity per step, keyed by ``(agent or "random-dK", window label)``.
        periods_per_year: Annualisation factor of the per-step returns (median over symbols).
        cash: Starting cash of every run.
        fee_rate: Fee rate of every run.
        seed: The evaluation's seed (random draws, bootstrap).
        store_url: Where the runs are.
    """

    evaluation_id: str
    agents_under_test: tuple[str, ...]
    windows: tuple[EvalWindow, ...]
    results: pd.DataFrame
    equity: Mapping[tuple[str, str], pd.Series]
    periods_per_year: float
    cash: float
    fee_rate: float
    seed: int
    store_url: str

    def __repr__(self) -> str:
        return (
            f"Evaluation({self.evaluation_id!r}, agents={list(self.agents)}, "
            f"windows={len(self.windows)}, store={self.store_url!r})"
        )

    @property
    def agents(self) -> tuple[str, ...]:
        """Agents under test, then the baselines present (``rules`` once)."""
        present = set(self.results["agent"])
        rest = [b for b in BASELINES if b in present and b not in self.agents_under_test]
        return (*self.agents_under_test, *rest)

    def window_returns(self, agent: str) -> np.ndarray:
        """Total return per window, in window order (the random baseline: mean over draws)."""
        rows = self.results[self.results["agent"] == agent]
        if rows.empty:
            raise ConfigError(f"no agent {agent!r} in this evaluation; it has {list(self.agents)}")
        by_label = rows.groupby("label", sort=False)["total_return"].mean()
        return np.array([float(by_label[w.label]) for w in self.windows])

    def step_returns(self, agent: str) -> np.ndarray:
        """Per-step returns of every window, concatenated in window order (random: draw 0)."""
        key = "random-d0" if agent == "random" else agent
        parts = [step_returns(self.equity[(key, w.label)], self.cash) for w in self.windows]
        return np.concatenate(parts)

    def run_ids(self, agent: str) -> list[str]:
        """The run ids behind ``agent``'s numbers, in window order (all random draws)."""
        return [str(r) for r in self.results.loc[self.results["agent"] == agent, "run_id"]]


def step_returns(equity: pd.Series, cash: float) -> np.ndarray:
    """``equity[t] / equity[t-1] - 1`` with ``cash`` before the first step."""
    values = np.asarray(equity, dtype=float)
    prev = np.concatenate([[cash], values[:-1]])
    out: np.ndarray = values / prev - 1.0
    return out


def _row(
    agent: str,
    draw: int,
    w: EvalWindow,
    run_id: str,
    equity: pd.Series,
    n_fills: int,
    rate: float,
    cash: float,
    per_year: float,
) -> dict[str, Any]:
    r = step_returns(equity, cash)
    sd = float(np.std(r, ddof=1)) if len(r) > 1 else 0.0
    sharpe = float(np.mean(r) / sd * math.sqrt(per_year)) if sd > 1e-15 else math.nan
    values = np.asarray(equity, dtype=float)
    peak = np.maximum.accumulate(np.concatenate([[cash], values]))[1:]
    return {
        "agent": agent,
        "draw": draw,
        "symbol": w.symbol,
        "window": w.index,
        "label": w.label,
        "run_id": run_id,
        "start": equity.index[0],
        "end": equity.index[-1],
        "n_steps": len(equity),
        "total_return": float(values[-1] / cash - 1.0),
        "sharpe": sharpe,
        "max_drawdown": float(np.min(values / peak - 1.0)),
        "n_fills": n_fills,
        "trade_rate": rate,
    }


def buy_and_hold_equity(frame: pd.DataFrame, *, cash: float, fee_rate: float) -> pd.Series:
    """All-in on the first bar's close, filled at the next open, held: the vectorized engine.

    Args:
        frame: The window's decision bars (OHLC).
        cash: Starting cash.
        fee_rate: Fee rate of the fill.

    Returns:
        Equity at each bar's close.
    """
    from axon_lab.backtest import run

    entries = np.zeros(len(frame), dtype=bool)
    entries[0] = True
    result = run(
        frame[["open", "high", "low", "close"]],
        entries=entries,
        fees=fee_rate,
        init_cash=cash,
        execution="next_open",
    )
    return result.equity.iloc[:, 0].rename("equity")


def collect_results(
    store: Any,
    *,
    evaluation_id: str,
    agents: list[str],
    windows: list[EvalWindow],
    frames: Mapping[str, pd.DataFrame],
    n_random: int,
    cash: float,
    rules_baseline: bool = True,
    fee_rate: float,
    seed: int,
    store_url: str,
) -> Evaluation:
    """Read every run of the evaluation back and add the vectorized baselines."""
    from axon_lab.backtest import bars_per_year

    per_year = {s: bars_per_year(f.index, None) for s, f in frames.items()}
    stored = [(a, -1, a) for a in agents]
    if rules_baseline and "rules" not in agents:
        stored.append(("rules", -1, "rules"))
    stored += [("random", k, f"random-d{k}") for k in range(n_random)]
    rows: list[dict[str, Any]] = []
    equity: dict[tuple[str, str], pd.Series] = {}
    for w in windows:
        ppy = per_year[w.symbol]
        for agent, draw, name in stored:
            run_id = window_run_id(evaluation_id, name, w)
            frame = store.to_frame(run_id)
            if len(frame) != w.n_steps:
                raise ConfigError(
                    f"run {run_id!r} has {len(frame)} of {w.n_steps} steps; rerun the evaluation "
                    f"with evaluation_id={evaluation_id!r} to finish it"
                )
            eq = pd.Series(
                frame["equity"].to_numpy(dtype=float),
                index=pd.DatetimeIndex(frame["timestamp"]),
                name="equity",
            )
            equity[(name, w.label)] = eq
            rows.append(
                _row(
                    agent,
                    draw,
                    w,
                    run_id,
                    eq,
                    int(frame["n_fills"].sum()),
                    trade_rate(frame["action"]),
                    cash,
                    ppy,
                )
            )
        bars = frames[w.symbol].iloc[w.start : w.stop]
        bh = buy_and_hold_equity(bars, cash=cash, fee_rate=fee_rate)
        flat = pd.Series(cash, index=bh.index, name="equity", dtype=float)
        for name, eq, fills in (("buy_and_hold", bh, 1), ("flat", flat, 0)):
            equity[(name, w.label)] = eq
            rate = 1.0 / len(eq) if fills else 0.0
            rows.append(
                _row(name, -1, w, f"vectorized:{name}/{w.label}", eq, fills, rate, cash, ppy)
            )
    results = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    return Evaluation(
        evaluation_id=evaluation_id,
        agents_under_test=tuple(agents),
        windows=tuple(windows),
        results=results,
        equity=equity,
        periods_per_year=float(np.median(list(per_year.values()))),
        cash=cash,
        fee_rate=fee_rate,
        seed=seed,
        store_url=store_url,
    )
