"""Observe: :class:`ContextBuilder` assembles the point-in-time observation of one step.

Three inputs, as in seed 001's ``ContextBuilder``:

* market data, only through :meth:`MarketView.as_of(now) <axon_lab.data.MarketView.as_of>` and
  :meth:`~axon_lab.data.MarketView.features_as_of` (bars complete at ``now``; nothing later);
* the portfolio, read once from the backend (the same snapshot the risk chain marked at the start
  of the step: backends keep it while nothing moved); no JSON round trip;
* the strategy state (step count, last action, cumulative PnL) from the recorder.

Two optional parts add to it, each one argument: ``forecasts`` (a
:class:`~axon_lab.forecast.Forecasts`) adds forecast features (``fc_*``) to each symbol's
features, and ``memory`` (a :class:`~axon_lab.memory.Memory`) fills ``similar_contexts`` with the
past contexts most like this one whose outcomes were complete at ``now``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from axon_lab.data.view import MarketView
from axon_lab.errors import ConfigError
from axon_lab.records import Bar, Observation, PortfolioSnapshot, StrategyState, built

from .stages import run_blocking

if TYPE_CHECKING:
    from axon_lab.forecast import Forecasts
    from axon_lab.memory import Memory

__all__ = ["ContextBuilder", "PortfolioSource"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class PortfolioSource(Protocol):
    """Where the builder reads the portfolio: a trading backend (or anything as typed)."""

    async def query_portfolio(self) -> PortfolioSnapshot:
        """The portfolio now."""
        ...


class ContextBuilder:
    """The Observe stage: bars and features as of ``now``, the portfolio, the strategy state.

    Args:
        view: The point-in-time market view; the only source of bars.
        portfolio: The trading backend (anything with ``async query_portfolio()``).
        state: Returns the recorder's :class:`~axon_lab.records.StrategyState` (default: an
            empty state).
        lookback: How many complete bars per symbol go into the observation.
        symbols: The symbols to observe (default: all of the view's).
        forecasts: Adds forecast features (``fc_*``) computed from the bars complete at ``now``.
        memory: Fills ``similar_contexts`` from a retrieval memory.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from axon_lab.backends import MockTradingBackend
        >>> from axon_lab.data import MarketView, make_synthetic
        >>> view = MarketView(make_synthetic(30, timeframe="1h", start="2024-01-01", seed=1,
        ...                                  symbol="SYN"), feature_spec=["rsi_14"])
        >>> observe = ContextBuilder(view, MockTradingBackend({"SYN": 1.0}, cash=1_000.0),
        ...                          lookback=3)
        >>> obs = observe(datetime(2024, 1, 1, 5, tzinfo=timezone.utc))
        >>> [b.timestamp.hour for b in obs.bars["SYN"]], obs.portfolio.cash
        ([2, 3, 4], 1000.0)
    """

    def __init__(
        self,
        view: MarketView,
        portfolio: PortfolioSource,
        *,
        state: Callable[[], StrategyState] | None = None,
        lookback: int = 20,
        symbols: Sequence[str] | None = None,
        forecasts: Forecasts | None = None,
        memory: Memory | None = None,
    ) -> None:
        if isinstance(lookback, bool) or not isinstance(lookback, int) or lookback < 1:
            raise ConfigError(f"lookback must be an int >= 1, got {lookback!r}")
        self.view = view
        self.portfolio = portfolio
        self.state = state
        self.lookback = lookback
        self.symbols = tuple(symbols) if symbols is not None else view.symbols
        unknown = [s for s in self.symbols if s not in view.symbols]
        if unknown:
            raise ConfigError(f"symbols {unknown} are not in the view, which holds {view.symbols}")
        self.timeframe = view.timeframe.label
        self.forecasts = forecasts
        self.memory = memory
        self._bar_cache: dict[str, dict[int, Bar]] = {}

    def _bars(self, now: datetime, symbol: str) -> tuple[Bar, ...]:
        # the view's arrays, not a copied frame: the same rows as view.as_of(now, symbol, n)
        opens, values = self.view.bar_arrays_as_of(now, symbol, lookback=self.lookback)
        cache = self._bar_cache.setdefault(symbol, {})
        keys = opens.tolist()
        if all(k in cache for k in keys):  # consecutive steps share all but the newest bar
            return tuple(cache[k] for k in keys)
        # A bar is immutable: each is built (and validated) once and reused by later observations.
        out = []
        for key, (o, h, lo, c, v) in zip(keys, values.tolist(), strict=True):
            bar = cache.get(key)
            if bar is None:
                stamp = _EPOCH + timedelta(microseconds=key // 1_000)
                bar = Bar(timestamp=stamp, open=o, high=h, low=lo, close=c, volume=v)
                cache[key] = bar
            out.append(bar)
        if len(cache) > 4 * self.lookback + 64:  # keep the cache to the recent window
            for key in sorted(cache)[: len(cache) - 2 * self.lookback]:
                del cache[key]
        return tuple(out)

    async def acall(self, now: datetime) -> Observation:
        """Observe at ``now`` (the loop's clock time)."""
        portfolio = await self.portfolio.query_portfolio()
        features: dict[str, dict[str, Any]] = {
            s: self.view.features_as_of(now, s) for s in self.symbols
        }
        if self.forecasts is not None:
            for s in self.symbols:
                features[s] = {**features[s], **self.forecasts.features(self.view, now, s)}
        # parts this process has just built: records.built takes the one fast path when
        # validation would change nothing, and validates (naming any bad value) otherwise
        observation = built.observation(
            timestamp=now,
            symbols=self.symbols,
            timeframe=self.timeframe,
            bars={s: self._bars(now, s) for s in self.symbols},
            features=features,
            portfolio=portfolio,
            strategy_state=self.state() if self.state is not None else StrategyState(),
        )
        if self.memory is not None:
            found = self.memory.step(self.view, observation, self.symbols)
            if found:  # validated again: an outcome after now is refused as look-ahead
                observation = observation.replace(similar_contexts=found)
        return observation

    def __call__(self, now: datetime) -> Observation:
        """Blocking :meth:`acall`."""
        return run_blocking(self.acall(now))

    def __repr__(self) -> str:
        extra = "".join(
            f", {k}={v!r}"
            for k, v in (("forecasts", self.forecasts), ("memory", self.memory))
            if v is not None
        )
        return f"ContextBuilder(symbols={list(self.symbols)}, lookback={self.lookback}{extra})"
