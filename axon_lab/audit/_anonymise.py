"""Anonymised data: the same bars under a neutral alias, rescaled prices and shifted dates.

A model that learned the market from the numbers decides the same on an anonymised copy; a model
that remembers "what BTC did in March 2021" cannot recognise it any more. The copy:

* replaces the symbol with a neutral alias (``"ASSET"`` unless given);
* multiplies open, high, low and close by one seeded random factor (between 2x and 10x, up or
  down), so every return, range and ratio is unchanged and no real price level remains;
* multiplies volumes by another such factor;
* shifts every timestamp forward by a whole number of weeks (weekday and time-of-day patterns
  stay), more than the data's span plus ten years, so no real date of the window remains and the
  new dates lie after any model's training data.

:func:`prompt_leaks` then scans every stored prompt of a run for the real symbol, dates and price
levels: the check that the anonymisation reached the model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from axon_lab.data import check_symbol
from axon_lab.errors import ConfigError, DataError
from axon_lab.records import Instrument

if TYPE_CHECKING:
    from axon_lab.explain import ExplainStore

__all__ = ["Anonymised", "PromptLeak", "anonymise_frame", "prompt_leaks", "real_markers"]

_PRICES = ["open", "high", "low", "close"]
_WEEK = pd.Timedelta(weeks=1)


def _factor(rng: np.random.Generator) -> float:
    # |log10 f| in [0.3, 1]: 2x to 10x, up or down; never near 1, so no level survives
    return float(10.0 ** (rng.choice([-1.0, 1.0]) * rng.uniform(math.log10(2.0), 1.0)))


@dataclass(frozen=True, slots=True, kw_only=True)
class Anonymised:
    """An anonymised copy of one symbol's bars and how it was made.

    Attributes:
        frame: The anonymised bars (``attrs['symbol']`` is the alias).
        symbol: The real symbol.
        alias: The neutral alias.
        price_factor: What prices were multiplied by.
        volume_factor: What volumes were multiplied by.
        shift: How far timestamps moved (a whole number of weeks).
    """

    frame: pd.DataFrame
    symbol: str
    alias: str
    price_factor: float
    volume_factor: float
    shift: pd.Timedelta

    def time(self, t: pd.Timestamp | str) -> pd.Timestamp:
        """The anonymised time of a real time."""
        return pd.Timestamp(t) + self.shift

    def instrument(self, real: Instrument) -> Instrument:
        """The real instrument's rules in the copy's units (tick and lots rescaled)."""
        f = self.price_factor
        return Instrument(
            symbol=self.alias,
            tick_size=None if real.tick_size is None else real.tick_size * f,
            lot_size=None if real.lot_size is None else real.lot_size / f,
            min_quantity=real.min_quantity / f,
            min_notional=real.min_notional,
            maker_fee=real.maker_fee,
            taker_fee=real.taker_fee,
            source="anonymised copy",
        )


def anonymise_frame(frame: pd.DataFrame, *, alias: str = "ASSET", seed: int | None) -> Anonymised:
    """An anonymised copy of a canonical one-symbol OHLCV frame (see the module docstring).

    Args:
        frame: Canonical bars with ``attrs['symbol']``.
        alias: The neutral name the copy trades under.
        seed: Seed of the factors and the shift.

    Raises:
        ConfigError: If the frame has no symbol, or the alias is not a usable symbol or contains
            the real one.

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> real = make_synthetic(50, timeframe="1h", start="2024-01-01", seed=1, symbol="ACME")
        >>> anon = anonymise_frame(real, seed=0)
        >>> anon.frame.attrs["symbol"], anon.shift % pd.Timedelta(weeks=1) == pd.Timedelta(0)
        ('ASSET', True)
        >>> bool(np.allclose(anon.frame["close"].pct_change()[1:], real["close"].pct_change()[1:]))
        True
    """
    if not isinstance(frame, pd.DataFrame) or not frame.attrs.get("symbol"):
        raise ConfigError("anonymise_frame needs a canonical OHLCV frame with attrs['symbol']")
    symbol = str(frame.attrs["symbol"])
    try:
        check_symbol(alias, hint="pass alias='ASSET' (or another neutral name)")
    except DataError as exc:
        raise ConfigError(str(exc)) from None
    if symbol.lower() in alias.lower() or alias.lower() in symbol.lower():
        raise ConfigError(
            f"the alias {alias!r} overlaps the real symbol {symbol!r}; pick a neutral alias"
        )
    rng = np.random.default_rng(seed)
    price, volume = _factor(rng), _factor(rng)
    span = pd.Timestamp(frame.index[-1]) - pd.Timestamp(frame.index[0])
    weeks = math.ceil(span / _WEEK) + 1 + int(rng.integers(520, 1041))
    shift = weeks * _WEEK
    out = frame.copy()
    out[_PRICES] = out[_PRICES].to_numpy() * price
    out["volume"] = out["volume"].to_numpy() * volume
    out.index = out.index + shift
    out.attrs = {**frame.attrs, "symbol": alias}
    return Anonymised(
        frame=out,
        symbol=symbol,
        alias=alias,
        price_factor=price,
        volume_factor=volume,
        shift=shift,
    )


def _num(x: float) -> str:
    return f"{x:.8g}"  # how prompts show numbers (axon_lab.oader.render_observation)


def real_markers(
    frame: pd.DataFrame, *, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
) -> tuple[str, ...]:
    """Strings that give the real data away: its symbol, each date, and its price levels.

    Dates are the ISO days (``YYYY-MM-DD``) of every bar from ``start`` to ``end`` (default: the
    whole frame); price levels are each bar's close and open as prompts format them, when they
    have at least five digits (a round ``100`` is in too many texts to prove anything).
    """
    rows = frame
    if start is not None:
        rows = rows[rows.index >= start]
    if end is not None:
        rows = rows[rows.index <= end]
    days = sorted({t.strftime("%Y-%m-%d") for t in pd.DatetimeIndex(rows.index)})
    levels = sorted(
        text
        for text in {_num(x) for x in rows[["open", "close"]].to_numpy().ravel().tolist()}
        if sum(c.isdigit() for c in text) >= 5
    )
    return (str(frame.attrs.get("symbol", "")), *days, *levels)


@dataclass(frozen=True, slots=True, kw_only=True)
class PromptLeak:
    """A real marker found in a stored prompt.

    Attributes:
        step: The step whose LLM call sent it.
        marker: The marker (symbol, date or price level).
        context: Up to 40 characters around it.
    """

    step: int
    marker: str
    context: str


def prompt_leaks(
    store: ExplainStore, run_id: str, markers: Iterable[str], *, steps: Sequence[int] | None = None
) -> tuple[tuple[PromptLeak, ...], int]:
    """Every place a marker occurs in the stored prompts of ``run_id``; and how many were read.

    Each LLM call's request (system prompt, observation, tool results, parameters) is read back
    exactly as it was sent (:func:`axon_lab.explain.step_prompts`).
    """
    from axon_lab.explain import step_prompts

    wanted = [m for m in dict.fromkeys(markers) if m]
    leaks: list[PromptLeak] = []
    n = 0
    chosen = None if steps is None else set(steps)
    for step in store.steps(run_id):
        if chosen is not None and step.step not in chosen:
            continue
        for prompt in step_prompts(store, step):
            n += 1
            text = prompt.request
            for marker in wanted:
                at = text.find(marker)
                if at >= 0:
                    context = text[max(0, at - 20) : at + len(marker) + 20]
                    leaks.append(PromptLeak(step=step.step, marker=marker, context=context))
    return tuple(leaks), n
