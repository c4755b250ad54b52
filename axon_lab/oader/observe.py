"""Observe: :class:`ContextBuilder` assembles the point-in-time observation of one step.

Three inputs, as in seed 001's ``ContextBuilder``:

* market data, only through :meth:`MarketView.as_of(now) <axon_lab.data.MarketView.as_of>` and
  :meth:`~axon_lab.data.MarketView.features_as_of` (bars complete at ``now``; nothing later);
* the portfolio, through the ``query_portfolio`` trading tool: the snapshot its JSON (what an LLM
  would read) is made from, or that JSON read back when a tool gives no typed value;
* the strategy state (step count, last action, cumulative PnL) from the recorder.

Two optional parts add to it, each one argument: ``forecasts`` (a
:class:`~axon_lab.forecast.Forecasts`) adds forecast features (``fc_*``) to each symbol's
features, and ``memory`` (a :class:`~axon_lab.memory.Memory`) fills ``similar_contexts`` with the
past contexts most like this one whose outcomes were complete at ``now``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from axon_lab.data.view import MarketView
from axon_lab.errors import ConfigError, RecordError, ToolError
from axon_lab.records import Bar, Observation, PortfolioSnapshot, Position, StrategyState
from axon_lab.tools.result import ToolResult

from .stages import run_blocking

if TYPE_CHECKING:
    from axon_lab.forecast import Forecasts
    from axon_lab.memory import Memory

__all__ = ["ContextBuilder", "PortfolioTool", "snapshot_from_payload"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# an observation holds cash, positions and equity; resting orders are the Execute stage's business
_PORTFOLIO_ARGS = '{"include_open_orders":false}'


class PortfolioTool(Protocol):
    """What the builder needs of ``QueryPortfolioTool``: an async JSON call with a typed result."""

    async def arun(self, args: str) -> ToolResult:
        """Run with JSON arguments."""
        ...


def snapshot_from_payload(payload: dict[str, Any]) -> PortfolioSnapshot:
    """Rebuild a :class:`~axon_lab.records.PortfolioSnapshot` from ``query_portfolio`` JSON.

    The JSON comes from outside this process's own records (a tool's text, a file, a model's
    echo), so every value is validated: a naive timestamp, a non-numeric cash, a NaN PnL, a
    negative average price or an equity that is not cash plus positions is refused.

    Raises:
        ToolError: If the payload is an error, lacks a field or holds an invalid value.

    Examples:
        >>> snap = snapshot_from_payload({
        ...     "ok": True, "timestamp": "2024-01-01T00:00:00+00:00", "cash": 100.0,
        ...     "equity": 100.0, "realized_pnl": 0.0, "fees_paid": 0.0, "positions": []})
        >>> snap.cash
        100.0
        >>> snapshot_from_payload({"ok": True, "timestamp": "2024-01-01T00:00:00",
        ...     "cash": "oops", "equity": 1.0, "realized_pnl": 0.0, "fees_paid": 0.0,
        ...     "positions": []})
        Traceback (most recent call last):
        ...
        axon_lab.errors.ToolError: query_portfolio's answer is not a valid portfolio: ...
    """
    if not isinstance(payload, dict):
        raise ToolError(f"query_portfolio's answer is not a JSON object: {payload!r:.200}")
    if not payload.get("ok", False):
        raise ToolError(f"query_portfolio failed: {payload.get('error')!r:.500}")
    try:
        positions = payload["positions"]
        if not isinstance(positions, list):
            raise ToolError(f"query_portfolio's positions is not a list: {positions!r:.200}")
        held: dict[str, Position] = {}
        for p in positions:
            if not isinstance(p, dict):
                raise ToolError(f"query_portfolio's position is not an object: {p!r:.200}")
            held[p["symbol"]] = Position(
                symbol=p["symbol"],
                quantity=p["quantity"],
                avg_price=p["avg_price"],
                mark_price=p["mark_price"],
            )
        return PortfolioSnapshot(
            timestamp=payload["timestamp"],
            cash=payload["cash"],
            positions=held,
            equity=payload["equity"],
            realized_pnl=payload["realized_pnl"],
            fees_paid=payload["fees_paid"],
        )
    except KeyError as exc:
        raise ToolError(
            f"query_portfolio's answer lacks the field {exc}: {payload!r:.500}"
        ) from None
    except (RecordError, TypeError) as exc:
        raise ToolError(f"query_portfolio's answer is not a valid portfolio: {exc}") from None


def _is_valid(fields: dict[str, Any]) -> bool:
    """Whether ``Observation(**fields)`` would accept ``fields`` unchanged.

    The builder's own parts are valid by construction (bars and the snapshot are records, the
    symbols and timeframe come from the view); what is left to check is what the validators
    would check or convert: a UTC timestamp, features that are finite floats or None, and no bar
    after the observation time. False sends the fields through full validation.
    """
    now = fields["timestamp"]
    if type(now) is not datetime or now.tzinfo is not UTC:
        return False
    for values in fields["features"].values():
        for v in values.values():
            if v is not None and (type(v) is not float or not math.isfinite(v)):
                return False
    return all(not bars or bars[-1].timestamp <= now for bars in fields["bars"].values())


class ContextBuilder:
    """The Observe stage: bars and features as of ``now``, the portfolio, the strategy state.

    Args:
        view: The point-in-time market view; the only source of bars.
        portfolio: The ``query_portfolio`` tool (``TradingToolRegistry.query``).
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
        >>> from axon_lab.tools import make_trading_tools
        >>> view = MarketView(make_synthetic(30, timeframe="1h", start="2024-01-01", seed=1,
        ...                                  symbol="SYN"), feature_spec=["rsi_14"])
        >>> tools = make_trading_tools(MockTradingBackend({"SYN": 1.0}, cash=1_000.0))
        >>> observe = ContextBuilder(view, tools.query, lookback=3)
        >>> obs = observe(datetime(2024, 1, 1, 5, tzinfo=timezone.utc))
        >>> [b.timestamp.hour for b in obs.bars["SYN"]], obs.portfolio.cash
        ([2, 3, 4], 1000.0)
    """

    def __init__(
        self,
        view: MarketView,
        portfolio: PortfolioTool,
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
        # Canonical frames hold exactly OHLCV_COLUMNS, in order, as float64, with validated OHLC
        # and a UTC index: the bars skip re-validation (model_construct) in this hot path. A bar
        # is immutable, so each is built once and reused by later observations.
        out = []
        for key, (o, h, lo, c, v) in zip(keys, values.tolist(), strict=True):
            bar = cache.get(key)
            if bar is None:
                stamp = _EPOCH + timedelta(microseconds=key // 1_000)
                bar = Bar.model_construct(
                    timestamp=stamp, open=o, high=h, low=lo, close=c, volume=v
                )
                cache[key] = bar
            out.append(bar)
        if len(cache) > 4 * self.lookback + 64:  # keep the cache to the recent window
            for key in sorted(cache)[: len(cache) - 2 * self.lookback]:
                del cache[key]
        return tuple(out)

    async def acall(self, now: datetime) -> Observation:
        """Observe at ``now`` (the loop's clock time)."""
        result = await self.portfolio.arun(_PORTFOLIO_ARGS)
        portfolio = result.value if result.ok else None
        if type(portfolio) is not PortfolioSnapshot:  # a tool that gives the JSON only
            portfolio = snapshot_from_payload(result.payload)
        fields: dict[str, Any] = {
            "timestamp": now,
            "symbols": self.symbols,
            "timeframe": self.timeframe,
            "bars": {s: self._bars(now, s) for s in self.symbols},
            "features": {s: self.view.features_as_of(now, s) for s in self.symbols},
            "portfolio": portfolio,
            "strategy_state": self.state() if self.state is not None else StrategyState(),
        }
        if self.forecasts is not None:
            for s in self.symbols:
                fields["features"][s] = {
                    **fields["features"][s],
                    **self.forecasts.features(self.view, now, s),
                }
        if _is_valid(fields):
            # every part is already a record or checked by _is_valid: skip re-validating the
            # twenty bars and the snapshot once more in this hot path (same object, same JSON)
            observation = Observation.model_construct(**fields)
        else:
            observation = Observation(**fields)  # raises the RecordError naming the bad value
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
