"""Bars for :class:`~axon_lab.backends.sim.SimTradingBackend`: input parsing and validation.

The sim backend keeps one kernel column per symbol on one shared bar axis; this module turns a
canonical frame, a mapping ``symbol -> frame`` or a :class:`~axon_lab.data.MarketView` into
validated ``(bars, 1)`` float64 arrays per symbol plus the bars' open times (int64 ns, UTC).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from axon_lab.backtest import check_prices
from axon_lab.data.frame import Timeframe, TimeframeLike, detect_timeframe
from axon_lab.data.view import MarketView
from axon_lab.errors import ConfigError, DataError

__all__ = ["SimBars", "parse_bars"]

SimData = pd.DataFrame | Mapping[str, pd.DataFrame] | MarketView


@dataclass(frozen=True, slots=True)
class SimBars:
    """Validated bars of one or more symbols on one time axis."""

    symbols: tuple[str, ...]
    opens_ns: np.ndarray  # int64 open times, strictly increasing
    ohlc: tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], ...]  # per symbol
    timeframe: Timeframe

    @property
    def n_bars(self) -> int:
        """Number of bars."""
        return int(self.opens_ns.shape[0])

    def extend(self, more: SimBars) -> SimBars:
        """These bars followed by ``more`` (same symbols, later open times).

        Raises:
            DataError: If ``more`` holds other symbols or does not start after the last bar.
        """
        if more.symbols != self.symbols:
            raise DataError(
                f"appended bars are for {list(more.symbols)} but the backend trades "
                f"{list(self.symbols)}; pass one frame per traded symbol."
            )
        if int(more.opens_ns[0]) <= int(self.opens_ns[-1]):
            raise DataError(
                f"appended bars start at {_stamp(int(more.opens_ns[0]))}, not after the last bar "
                f"({_stamp(int(self.opens_ns[-1]))}); append only newer bars."
            )
        ohlc = tuple(
            tuple(np.ascontiguousarray(np.concatenate([a, b])) for a, b in zip(x, y, strict=True))
            for x, y in zip(self.ohlc, more.ohlc, strict=True)
        )
        return SimBars(
            self.symbols,
            np.concatenate([self.opens_ns, more.opens_ns]),
            ohlc,  # type: ignore[arg-type]
            self.timeframe,
        )


def _stamp(ns: int) -> pd.Timestamp:
    return pd.Timestamp(ns, tz="UTC")


def _frames(data: Any) -> dict[str, pd.DataFrame]:
    if isinstance(data, MarketView):
        return {sym: data.as_of(data.end, sym) for sym in data.symbols}
    if isinstance(data, pd.DataFrame):
        symbol = data.attrs.get("symbol")
        if not symbol:
            raise ConfigError(
                "The frame has no attrs['symbol']; pass SimTradingBackend({'SYMBOL': frame}, ...) "
                "or set frame.attrs['symbol']."
            )
        return {str(symbol): data}
    if isinstance(data, Mapping) and data:
        return {str(k): v for k, v in data.items()}
    raise ConfigError(
        "data must be a canonical OHLCV frame, a non-empty mapping symbol -> frame or a "
        f"MarketView; got {type(data).__name__}."
    )


def _timeframe(data: Any, frames: Mapping[str, pd.DataFrame], given: Any) -> Timeframe:
    if given is not None:
        return Timeframe.parse(given)
    if isinstance(data, MarketView):
        return data.timeframe
    labels = {f.attrs.get("timeframe") for f in frames.values()} - {None}
    if len(labels) == 1:
        return Timeframe.parse(str(next(iter(labels))))
    index = next(iter(frames.values())).index
    if len(labels) == 0 and isinstance(index, pd.DatetimeIndex) and len(index) > 1:
        return detect_timeframe(index)
    raise ConfigError(
        f"cannot tell the bar length (frames carry timeframes {sorted(map(str, labels))}); "
        "pass timeframe='1h' (or the frames' timeframe)."
    )


def _opens(sym: str, index: pd.Index) -> np.ndarray:
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise DataError(
            f"bars of {sym!r} need a timezone-aware DatetimeIndex of bar open times; load them "
            "with axon_lab.data.load_ohlcv(...) or make_canonical()."
        )
    opens = np.asarray(index.tz_convert("UTC").as_unit("ns").asi8, dtype=np.int64)
    if opens.shape[0] == 0:
        raise DataError(f"bars of {sym!r}: the frame has no rows.")
    if opens.shape[0] > 1 and not bool((np.diff(opens) > 0).all()):
        raise DataError(
            f"bars of {sym!r} are not strictly increasing in time; sort and deduplicate them "
            "(df.sort_index(); df[~df.index.duplicated()])."
        )
    return opens


def parse_bars(data: Any, timeframe: TimeframeLike | None = None) -> SimBars:
    """Validate ``data`` into :class:`SimBars`.

    Raises:
        ConfigError: If the input type or bar length cannot be read.
        DataError: If prices are missing or invalid, or symbols are not on one time axis.
    """
    frames = _frames(data)
    tf = _timeframe(data, frames, timeframe)
    first = next(iter(frames))
    axis = _opens(first, frames[first].index)
    ohlc = []
    for sym, frame in frames.items():
        opens = _opens(sym, frame.index)
        if opens.shape != axis.shape or not bool((opens == axis).all()):
            raise DataError(
                f"bars of {sym!r} are not on the same timestamps as {first!r}; the "
                "sim backend steps every symbol bar by bar: align them first, e.g. keep the "
                "common timestamps with frame.loc[common_index]."
            )
        px = check_prices(frame)
        ohlc.append((px.open, px.high, px.low, px.close))
    return SimBars(tuple(frames), axis, tuple(ohlc), tf)
