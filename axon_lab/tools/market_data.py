"""MarketDataTool: recent bars and features for the LLM, read only through a point-in-time view.

The tool asks its view for what is known at the loop clock's *now* — only bars complete at that
time — so an LLM calling it inside a backtest cannot see the future. It is written against the
small :class:`MarketDataView` protocol, which :class:`axon_lab.data.MarketView` satisfies.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import pandas as pd
from pydantic import Field

from axon_lab.clock import Clock
from axon_lab.errors import ConfigError

from .base import BaseTool, ToolArgs, check_symbol
from .result import ToolArgumentError, ToolResult

__all__ = ["MarketDataArgs", "MarketDataTool", "MarketDataView"]


@runtime_checkable
class MarketDataView(Protocol):
    """The point-in-time reads the tool needs (``axon_lab.data.MarketView`` has them)."""

    @property
    def symbols(self) -> Sequence[str]:
        """Symbols the view holds."""
        ...

    @property
    def timeframe(self) -> object:
        """The bar duration (its ``str`` or ``label`` names it)."""
        ...

    def as_of(
        self, t: datetime, symbol: str | None = None, lookback: int | None = None
    ) -> pd.DataFrame:
        """Bars complete at ``t``: UTC index, float columns open/high/low/close/volume."""
        ...

    def features_as_of(self, t: datetime, symbol: str | None = None) -> dict[str, float | None]:
        """Feature values of the last bar complete at ``t``."""
        ...


class MarketDataArgs(ToolArgs):
    """Arguments of ``get_market_data``."""

    symbol: str = Field(min_length=1, max_length=64, description="The symbol to read.")
    lookback: int = Field(
        default=20, ge=1, description="How many of the most recent complete bars to return."
    )
    include_features: bool = Field(
        default=True, description="Also return indicator values of the last complete bar."
    )


def _number(value: Any) -> float | None:
    out = float(value)
    return out if math.isfinite(out) else None


class MarketDataTool(BaseTool[MarketDataArgs]):
    """Recent OHLCV bars and features of one symbol, as known at the loop clock's now.

    Args:
        view: The point-in-time data view.
        clock: The loop's clock; reads are cut at ``clock.now()``.
        max_lookback: Largest ``lookback`` an LLM may ask for (bounds the answer's size).

    Examples:
        >>> import json
        >>> from datetime import datetime, timezone
        >>> import pandas as pd
        >>> from axon_lab.clock import SimulatedClock
        >>> idx = pd.date_range("2024-01-01", periods=3, freq="D", tz="UTC", name="timestamp")
        >>> bars = pd.DataFrame({"open": [1.0, 2.0, 3.0], "high": [1.5, 2.5, 3.5],
        ...                      "low": [0.5, 1.5, 2.5], "close": [1.2, 2.2, 3.2],
        ...                      "volume": [10.0, 20.0, 30.0]}, index=idx)
        >>> class TinyView:
        ...     symbols, timeframe = ("X",), "1d"
        ...     def as_of(self, t, symbol=None, lookback=None):
        ...         done = bars[bars.index + pd.Timedelta(days=1) <= t]
        ...         return done if lookback is None else done.tail(lookback)
        ...     def features_as_of(self, t, symbol=None):
        ...         return {}
        >>> clock = SimulatedClock(datetime(2024, 1, 3, tzinfo=timezone.utc))
        >>> tool = MarketDataTool(TinyView(), clock)
        >>> answer = json.loads(tool.execute('{"symbol": "X", "lookback": 5}'))
        >>> [b["close"] for b in answer["bars"]], answer["last_price"]  # the 3rd bar is not done
        ([1.2, 2.2], 2.2)
    """

    name = "get_market_data"
    description = (
        "Get the most recent complete OHLCV bars of a symbol (oldest first) and, optionally, "
        "indicator values of the last complete bar, as known now."
    )
    args_model = MarketDataArgs

    def __init__(self, view: MarketDataView, clock: Clock, *, max_lookback: int = 500) -> None:
        if max_lookback < 1:
            raise ConfigError(f"max_lookback must be >= 1, got {max_lookback!r}")
        super().__init__()
        self.view = view
        self.clock = clock
        self.max_lookback = max_lookback

    def _validate(self, args: MarketDataArgs) -> None:
        check_symbol(args.symbol, self.view.symbols)
        if args.lookback > self.max_lookback:
            raise ToolArgumentError(
                f"Invalid arguments: 'lookback' is {args.lookback}, above the maximum "
                f"{self.max_lookback}; ask for fewer bars.",
                details=({"field": "lookback", "problem": "too large", "got": args.lookback},),
            )

    async def _arun(self, args: MarketDataArgs) -> ToolResult:
        now = self.clock.now()
        frame = self.view.as_of(now, args.symbol, args.lookback)
        columns = ["open", "high", "low", "close", "volume"]
        stamps = pd.DatetimeIndex(frame.index)
        bars = [
            {"timestamp": ts.isoformat(), **dict(zip(columns, map(_number, values), strict=True))}
            for ts, values in zip(stamps, frame[columns].to_numpy().tolist(), strict=True)
        ]
        timeframe = self.view.timeframe
        payload: dict[str, Any] = {
            "ok": True,
            "symbol": args.symbol,
            "timeframe": str(getattr(timeframe, "label", timeframe)),
            "as_of": now.isoformat(),
            "last_price": bars[-1]["close"] if bars else None,
            "bars": bars,
        }
        if not bars:
            payload["message"] = f"no bar of {args.symbol} is complete yet at {now.isoformat()}"
        if args.include_features:
            features = self.view.features_as_of(now, args.symbol)
            payload["features"] = {
                k: (None if v is None else _number(v)) for k, v in features.items()
            }
        return ToolResult(tool=self.name, ok=True, payload=payload)
