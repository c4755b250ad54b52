"""PortfolioLoop: Observe -> Allocate -> Size -> Risk -> Execute -> Record over a whole universe.

One step per decision time of the universe's clock (every ``every`` rows). Each step:

1. the backend processes the rows completed since the last step (one kernel call over bars x
   symbols): last step's orders fill at this row's open, or are cancelled if their symbol had no
   bar (:mod:`axon_lab.data.universe`);
2. **Observe** builds the :class:`~axon_lab.records.PortfolioObservation` from the view, point in
   time (rows complete at the decision time only), with the one portfolio snapshot;
3. **Allocate** -- the analyst -- turns it into a :class:`~axon_lab.records.PortfolioDecision`
   (e.g. :class:`~axon_lab.portfolio.RankingAnalyst`);
4. **Size** turns target weights into orders under the one equity
   (:func:`~axon_lab.portfolio.weights_to_orders`);
5. **Risk** judges them (:func:`~axon_lab.risk.check_portfolio`): verdicts per order and per
   portfolio, fail-closed;
6. **Execute** submits the approved orders (they fill at the next row's open);
7. **Record** writes one :class:`~axon_lab.records.StepRecord` whose ``portfolio`` field holds
   the decision, the weights and each symbol's contribution to the step's PnL, with the
   observation stored by content (``observation_digest``), before the next step begins.

A stage that raises ends its step: the step is recorded with ``failed_stage`` and ``error`` and
no order goes out; then ``on_error="stop"`` raises :class:`~axon_lab.errors.StageError` and
``"abstain"`` carries on.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal

import numpy as np

from axon_lab._text import MAX_ERROR_CHARS, clip
from axon_lab.data import UNIVERSE_FEATURES, UniverseView
from axon_lab.errors import ConfigError, StageError
from axon_lab.llm import PROMPTS
from axon_lab.records import (
    PortfolioDecision,
    PortfolioObservation,
    PortfolioStep,
    StepRecord,
    StrategyState,
)
from axon_lab.risk import PortfolioLimits, PortfolioRiskResult, check_portfolio

from ._backend import PortfolioSimBackend
from ._sizing import weights_to_orders

__all__ = ["PortfolioLoop"]

OnError = Literal["stop", "abstain"]
Analyst = Callable[[PortfolioObservation], PortfolioDecision]
_BAR_FIELDS = ("open", "high", "low", "close", "volume")


def _col(values: np.ndarray) -> tuple[float | None, ...]:
    """A float column with NaN as None (Python floats, no numpy scalars)."""
    return tuple(None if v != v else v for v in values.tolist())


class PortfolioLoop:
    """The portfolio loop (see the module docstring for what a step does).

    Args:
        view: The universe view (clock, bars, features).
        backend: The portfolio backend on the same view.
        analyst: ``PortfolioObservation -> PortfolioDecision``.
        record: ``StepRecord -> None``; must commit before returning (e.g.
            :class:`~axon_lab.oader.ExplainRecorder`).
        run_id: The run the steps belong to.
        limits: The portfolio risk limits (default: :class:`~axon_lab.risk.PortfolioLimits`).
        every: Decide every ``every`` rows.
        start_row: First row whose completion is a decision time (default: 0).
        band: Skip orders below ``band x equity`` (see ``weights_to_orders``).
        lot_size: Round orders toward zero to a multiple of this.
        on_error: ``"stop"`` or ``"abstain"``.
        progress: Show a tqdm progress bar in :meth:`run`.
        callbacks: Plain functions of each committed step record.

    Raises:
        ConfigError: On a bad setting, or a backend on another view.
    """

    def __init__(
        self,
        view: UniverseView,
        backend: PortfolioSimBackend,
        analyst: Analyst,
        record: Callable[[StepRecord], Any],
        *,
        run_id: str,
        limits: PortfolioLimits | None = None,
        every: int = 1,
        start_row: int = 0,
        band: float = 0.0,
        lot_size: float = 0.0,
        on_error: OnError = "stop",
        progress: bool = False,
        callbacks: Sequence[Callable[[StepRecord], Any]] = (),
    ) -> None:
        if backend.view is not view:
            raise ConfigError("the backend must be built on the same UniverseView as the loop.")
        if on_error not in ("stop", "abstain"):
            raise ConfigError(f"on_error must be 'stop' or 'abstain', got {on_error!r}")
        if not run_id:
            raise ConfigError("pass run_id=... (the run the steps belong to)")
        if not (isinstance(band, int | float) and 0.0 <= band < 1.0):
            raise ConfigError(f"band must be in [0, 1), got {band!r}")
        self.view, self.backend, self.analyst, self.record = view, backend, analyst, record
        self.run_id = run_id
        self.limits = limits if limits is not None else PortfolioLimits()
        self.band, self.lot_size = float(band), float(lot_size)
        self.on_error: OnError = on_error
        self.progress = progress
        self.callbacks = list(callbacks)
        times = view.decision_times(every)
        if isinstance(start_row, bool) or not isinstance(start_row, int) or start_row < 0:
            raise ConfigError(f"start_row must be an int >= 0, got {start_row!r}")
        first = view.universe.index[min(start_row, view.universe.n_bars - 1)] + view.timeframe.delta
        self._times: list[datetime] = list(times[times >= first].to_pydatetime())
        self._pos = 0
        self.step_index = 0
        self.last_record: StepRecord | None = None
        self.last_observation: PortfolioObservation | None = None
        self._values = np.zeros(view.universe.n_symbols)
        self._prev_equity = backend.equity() if backend.rows_done else backend.init_cash
        self._strategy = getattr(record, "strategy_state", None)
        self.store: Any = None  # make_portfolio_agent attaches its store

    # ------------------------------------------------------------------ schedule
    @property
    def done(self) -> bool:
        """Whether no decision time is left."""
        return self._pos >= len(self._times)

    @property
    def remaining(self) -> int:
        """Decision times left."""
        return len(self._times) - self._pos

    # ------------------------------------------------------------------ stages
    def observe(self, now: datetime, row: int) -> PortfolioObservation:
        """The observation at ``now`` (row ``row`` is the last complete one)."""
        view, backend = self.view, self.backend
        u = view.universe
        snap = backend.snapshot(now)
        marks = view.marks[row]
        pos = backend.positions
        equity = snap.equity
        held = np.nan_to_num(marks, nan=0.0)
        weights = pos * held / equity if equity > 0 else np.zeros_like(pos)
        state = self._strategy() if callable(self._strategy) else StrategyState()
        return PortfolioObservation(
            timestamp=now,
            timeframe=view.timeframe.label,
            symbols=u.symbols,
            tradable=tuple(view.has_bar[row].tolist()),
            bars={f: _col(getattr(u, f)[row]) for f in _BAR_FIELDS},
            marks=_col(marks),
            features={f: _col(view.features[f][row]) for f in UNIVERSE_FEATURES},
            weights=tuple(weights.tolist()),
            portfolio=snap,
            strategy_state=state,
        )

    def _risk(
        self, decision: PortfolioDecision, obs: PortfolioObservation, row: int
    ) -> tuple[np.ndarray, PortfolioRiskResult]:
        view, backend = self.view, self.backend
        marks = view.marks[row]
        tradable = view.has_bar[row]
        pos = backend.positions
        orders = weights_to_orders(
            decision, symbols=view.symbols, positions=pos, marks=marks, tradable=tradable,
            equity=obs.portfolio.equity, band=self.band, lot_size=self.lot_size,
        )  # fmt: skip
        result = check_portfolio(
            self.limits, symbols=view.symbols, orders=orders, positions=pos, marks=marks,
            tradable=tradable, cash=obs.portfolio.cash, timestamp=obs.timestamp,
        )  # fmt: skip
        return np.where(result.approved, orders, 0.0), result

    # ------------------------------------------------------------------ one step
    def step(self) -> StepRecord:
        """Run one step and return its committed record.

        Raises:
            ConfigError: If no decision time is left.
            StageError: If a stage failed under ``on_error="stop"``, or recording failed.
        """
        if self.done:
            raise ConfigError(
                f"run {self.run_id!r} has no decision time left (stepped {self.step_index} "
                "times); check loop.done before stepping"
            )
        now = self._times[self._pos]
        self._pos += 1
        index = self.step_index
        row_count = self.view.rows_as_of(now)
        fills, cancelled = self.backend.advance_to_row(row_count)
        row = row_count - 1
        obs: PortfolioObservation | None = None
        decision: PortfolioDecision | None = None
        risk: PortfolioRiskResult | None = None
        n_orders = 0
        stage = "observe"
        failed: str | None = None
        error: BaseException | None = None
        try:
            obs = self.observe(now, row)
            stage = "analyze"
            decision = self.analyst(obs)
            if not isinstance(decision, PortfolioDecision):
                raise ConfigError(
                    f"the analyst returned a {type(decision).__name__}, not a PortfolioDecision"
                )
            stage = "decide"
            orders, risk = self._risk(decision, obs, row)
            stage = "execute"
            n_orders = self.backend.submit(orders)
        except Exception as exc:
            failed, error = stage, exc
        values = self.backend.symbol_values()
        delta = values - self._values
        self._values = values
        equity = self.backend.equity()
        marks = np.nan_to_num(self.view.marks[row], nan=0.0)
        w = self.backend.positions * marks / equity if equity > 0 else np.zeros_like(values)
        syms = self.view.symbols
        held = np.flatnonzero(w != 0.0)
        moved = np.flatnonzero(delta != 0.0)
        record = StepRecord(
            run_id=self.run_id,
            step=index,
            timestamp=now,
            observation_digest="" if obs is None else PROMPTS.put(obs.to_json()),
            verdicts=() if risk is None else risk.verdicts,
            fills=fills,
            equity=equity,
            pnl=equity - self._prev_equity,
            failed_stage=failed,
            error=None if error is None else clip(f"{type(error).__name__}: {error}",
                                                  MAX_ERROR_CHARS),
            portfolio=PortfolioStep(
                decision=decision,
                weights=dict(zip([syms[j] for j in held.tolist()], w[held].tolist(), strict=True)),
                pnl_by_symbol=dict(zip([syms[j] for j in moved.tolist()], delta[moved].tolist(),
                                       strict=True)),
                gross=float(np.abs(w).sum()),
                net=float(w.sum()),
                n_tradable=int(self.view.has_bar[row].sum()),
                n_orders=n_orders,
                n_rejected=0 if risk is None else risk.n_rejected,
                n_cancelled=cancelled,
            ),
        )  # fmt: skip
        try:
            self.record(record)
        except Exception as exc:
            raise StageError(
                f"step {index} of run {self.run_id!r} could not be recorded "
                f"({type(exc).__name__}: {exc}); the run stops here",
                step=index,
                stage="record",
            ) from exc
        self.step_index = index + 1
        self._prev_equity = equity
        self.last_record = record
        self.last_observation = obs
        for callback in self.callbacks:
            callback(record)
        if error is not None and self.on_error == "stop":
            raise StageError(
                f"step {index} of run {self.run_id!r} failed in {failed}: {record.error} "
                "(recorded; on_error='stop')",
                step=index,
                stage=failed or "observe",
            ) from error
        return record

    def run(self, n: int | None = None) -> PortfolioLoop:
        """Run ``n`` steps (default: every decision time left).

        Returns:
            The loop itself.
        """
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
            raise ConfigError(f"n must be an int >= 0, got {n!r}")
        total = self.remaining if n is None else min(n, self.remaining)
        bar = None
        if self.progress:
            tqdm = importlib.import_module("tqdm.auto").tqdm
            bar = tqdm(total=total, desc=f"portfolio {self.run_id}", unit="step")
        try:
            for _ in range(total):
                self.step()
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        return self

    def report(self, **kwargs: Any) -> Any:
        """The portfolio report of this run (needs ``make_portfolio_agent``'s store)."""
        if self.store is None:
            raise ConfigError("this loop has no store attached; build it with make_portfolio_agent")
        from axon_lab.portfolio._report import build_portfolio_report

        return build_portfolio_report(self.store, self.run_id, **kwargs)

    def close(self) -> None:
        """Close the attached store, if any."""
        if self.store is not None:
            self.store.close()

    def __repr__(self) -> str:
        return (
            f"PortfolioLoop(run_id={self.run_id!r}, step={self.step_index}, "
            f"remaining={self.remaining}, symbols={self.view.universe.n_symbols})"
        )
