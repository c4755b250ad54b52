"""make_portfolio_agent: a universe, an analyst and limits wired into a recorded PortfolioLoop."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from axon_lab.data import Universe, UniverseView
from axon_lab.errors import ConfigError
from axon_lab.risk import PortfolioLimits

from ._backend import PortfolioSimBackend
from ._loop import Analyst, OnError, PortfolioLoop
from ._ranking import RankingAnalyst

__all__ = ["make_portfolio_agent", "universe_fingerprint"]


def universe_fingerprint(universe: Universe) -> str:
    """A SHA-256 digest of the universe's symbols, clock and bars."""
    h = hashlib.sha256()
    h.update("\0".join(universe.symbols).encode())
    h.update(np.ascontiguousarray(universe.index.asi8).tobytes())
    for name in ("open", "high", "low", "close", "volume"):
        h.update(np.ascontiguousarray(getattr(universe, name)).tobytes())
    return h.hexdigest()


def make_portfolio_agent(
    data: Universe | UniverseView,
    *,
    analyst: Analyst | None = None,
    limits: PortfolioLimits | None = None,
    cash: float = 100_000.0,
    fees: float = 0.0,
    slippage_bps: float = 0.0,
    store: Any = "sqlite://",
    run_id: str | None = None,
    every: int = 1,
    start_row: int = 0,
    band: float = 0.0,
    on_error: OnError = "stop",
    progress: bool = False,
) -> PortfolioLoop:
    """Build a recorded portfolio loop over a universe.

    Args:
        data: A :class:`~axon_lab.data.Universe` (viewed with default features) or a view.
        analyst: The allocator (default: :class:`~axon_lab.portfolio.RankingAnalyst`).
        limits: Portfolio risk limits (default: :class:`~axon_lab.risk.PortfolioLimits` with
            ``fee_rate=fees``).
        cash: Starting cash.
        fees: Fee as a fraction of notional per fill.
        slippage_bps: Adverse slippage on fills, in basis points.
        store: An :class:`~axon_lab.explain.ExplainStore` or its URL (default: in memory).
        run_id: The run id (default: a fresh one).
        every: Decide every ``every`` rows.
        start_row: First row whose completion is a decision time.
        band: Skip orders below ``band x equity``.
        on_error: ``"stop"`` or ``"abstain"``.
        progress: Show a progress bar.

    Returns:
        The loop; ``loop.store`` is its explain store.

    Examples:
        >>> from axon_lab.data import make_synthetic_universe
        >>> loop = make_portfolio_agent(make_synthetic_universe(6, 80, seed=3), run_id="doc")
        >>> loop.run().step_index
        80
        >>> len(loop.store.steps("doc")), loop.last_record.portfolio.n_tradable
        (80, 6)
        >>> loop.close()
    """
    from axon_lab.explain import ExplainStore
    from axon_lab.oader import ExplainRecorder

    if isinstance(data, Universe):
        view = UniverseView(data)
    elif isinstance(data, UniverseView):
        view = data
    else:
        raise ConfigError(
            f"data must be a Universe or a UniverseView, got {type(data).__name__}; load one "
            "with axon_lab.data.load_universe(...) or load_universe_sample('stocks-1d')."
        )
    the_analyst = analyst if analyst is not None else RankingAnalyst()
    the_limits = limits if limits is not None else PortfolioLimits(fee_rate=fees)
    backend = PortfolioSimBackend(view, cash=cash, fees=fees, slippage_bps=slippage_bps)
    the_store = store if isinstance(store, ExplainStore) else ExplainStore(store)
    config = {
        "kind": "portfolio",
        "symbols": list(view.symbols),
        "timeframe": view.timeframe.label,
        "cash": cash,
        "fees": fees,
        "slippage_bps": slippage_bps,
        "every": every,
        "band": band,
        "analyst": repr(the_analyst),
        "limits": the_limits.to_dict(),
        "features": view.params,
    }
    info = the_store.create_run(
        config,
        run_id=run_id,
        data_fingerprint=universe_fingerprint(view.universe),
        model="rules" if isinstance(the_analyst, RankingAnalyst) else repr(the_analyst)[:60],
    )
    loop = PortfolioLoop(
        view, backend, the_analyst, ExplainRecorder(the_store, info.run_id),
        run_id=info.run_id, limits=the_limits, every=every, start_row=start_row, band=band,
        on_error=on_error, progress=progress,
    )  # fmt: skip
    loop.store = the_store
    return loop
