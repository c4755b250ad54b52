"""A live market view: closed bars polled from an exchange through ccxt, point-in-time as ever.

:class:`LiveMarketView` is a :class:`~axon_lab.data.MarketView` that grows. It loads ``history``
closed bars when built and :meth:`LiveMarketView.refresh` appends the bars closed since (install
``axon-lab[exchange]``); each refresh rebuilds the view over the longer frames, so every read
(``as_of``, ``bar_arrays_as_of``, ``features_as_of``, ``last_price``, ``decision_times``) is
the parent's, with its contract: ``as_of(t)`` returns only bars complete at ``t``.

What a refresh guarantees:

* **Never a forming bar.** Exchanges (Binance among them) return the bar still forming as the
  last row; a row is kept only if it is complete at the refresh's time (open + timeframe <= now)
  by our clock *and* by the exchange's (``fetch_time``, where the exchange has it), so a local
  clock running ahead cannot make a forming bar look closed.
  Bars are appended, never rewritten: what ``as_of(t)`` returned stays what it returns.
* **Backfill.** A refresh asks for every bar after the last one held, page by page, so polls
  missed (a sleep, a network outage) are filled in by the next one.
* **Gap detection.** A bar missing between two the exchange did return is asked for once more;
  if it is still missing the later bars are appended anyway, the hole is listed in
  :attr:`LiveMarketView.gaps` and a :class:`FeedGapWarning` says so (some venues publish no bar
  for a period without trades). A bar closed by now that the exchange has not published yet is
  not a gap: the next refresh fetches it.
* **Validation.** The frames pass :func:`~axon_lab.data.validate_ohlcv` (``strict``) before they
  replace the old ones; an invalid page changes nothing.

Examples:
    >>> LiveMarketView.__mro__[1].__name__
    'MarketView'
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from axon_lab._imports import require
from axon_lab.clock import Clock, WallClock
from axon_lab.errors import BackendError, ConfigError

from .download import _client, _frame
from .frame import Timeframe, check_symbol
from .validation import validate_ohlcv
from .view import MarketView

__all__ = ["FeedGapWarning", "LiveMarketView"]

_TRIES = 3


class FeedGapWarning(UserWarning):
    """The exchange skipped a bar between two it returned (the view holds a gap there)."""


def _ms(t: pd.Timestamp) -> int:
    return int(t.value // 1_000_000)


class LiveMarketView(MarketView):
    """A market view fed by an exchange's closed bars, one refresh at a time.

    Args:
        exchange: The ccxt exchange id, e.g. ``"binance"``.
        symbols: The exchange's symbols, e.g. ``["BTC/USDT"]``.
        timeframe: The bar length in the exchange's notation, e.g. ``"1m"``.
        history: How many closed bars to load when built (the warm-up of features and
            analysts).
        clock: The time refreshes cut at (default: the wall clock).
        url: A base URL replacing the exchange's REST hosts (a local exchange, a proxy).
        config: Extra ccxt client config.
        feature_spec: As for :class:`~axon_lab.data.MarketView`.
        page: Bars per request.
        retry_pause: Seconds before the first retry of a failed request (doubling each time).
        client: A ccxt client to use instead of building one (``fetch_ohlcv`` is all it needs).

    Raises:
        ConfigError: On a bad argument or an exchange ccxt does not know.
        BackendError: If the exchange does not answer, or has no closed bar of a symbol yet.
        DataError: If the exchange's bars fail validation.
    """

    def __init__(
        self,
        exchange: str,
        symbols: Sequence[str],
        timeframe: str,
        *,
        history: int = 500,
        clock: Clock | None = None,
        url: str | None = None,
        config: Mapping[str, Any] | None = None,
        feature_spec: Sequence[str] | None = None,
        page: int = 1000,
        retry_pause: float = 0.5,
        client: Any = None,
    ) -> None:
        if isinstance(symbols, str):
            raise ConfigError(f"symbols={symbols!r} must be a list, e.g. [{symbols!r}]")
        if not symbols:
            raise ConfigError("symbols is empty; pass e.g. ['BTC/USDT']")
        for symbol in symbols:
            check_symbol(symbol, hint="pass the exchange's symbol, e.g. 'BTC/USDT'")
        if not (isinstance(history, int) and not isinstance(history, bool) and history >= 1):
            raise ConfigError(f"history={history!r} must be an integer >= 1 (bars to load)")
        if not (isinstance(page, int) and page >= 1):
            raise ConfigError(f"page={page!r} must be an integer >= 1")
        self.exchange_id = exchange
        #: The timeframe as the exchange names it (what ``fetch_ohlcv`` is asked for).
        self.exchange_timeframe = timeframe
        self._live_tf = Timeframe.parse(timeframe)
        self._history = history
        self._feed_clock: Clock = clock if clock is not None else WallClock()
        self._page = page
        self._pause = retry_pause
        self._client = client if client is not None else _client(exchange, config, url)
        self._frames: dict[str, pd.DataFrame | None] = dict.fromkeys(symbols)
        #: ``(symbol, open time)`` of every bar the exchange skipped.
        self.gaps: list[tuple[str, pd.Timestamp]] = []
        #: Refreshes done and requests sent.
        self.refreshes = 0
        self.requests = 0
        self._feature_spec = feature_spec
        self.refresh()
        empty = [s for s, f in self._frames.items() if f is None]
        if empty:
            raise BackendError(
                f"{exchange} has no closed {timeframe} bar of {empty} in the last {history} "
                "bars; check the symbol and the timeframe"
            )

    # ------------------------------------------------------------------ feed

    @property
    def feed_clock(self) -> Clock:
        """The clock refreshes cut at."""
        return self._feed_clock

    @property
    def next_close(self) -> pd.Timestamp:
        """When the next bar after the newest held one completes (what a runner waits for)."""
        return self.end + self._live_tf.delta

    def refresh(self, now: datetime | pd.Timestamp | None = None) -> dict[str, pd.DataFrame]:
        """Fetch the bars closed since the last refresh and append them.

        Args:
            now: The cut: only bars complete at ``now`` are kept (default: the feed's clock).

        Returns:
            The bars appended, per symbol (symbols with none are left out).

        Raises:
            BackendError: If the exchange keeps failing (the view is left as it was).
            DataError: If the bars fail validation (the view is left as it was).
        """
        cut = pd.Timestamp(now if now is not None else self._feed_clock.now())
        if cut.tzinfo is None:
            raise ConfigError(f"now={now!r} is naive; pass a timezone-aware time")
        cut = cut.tz_convert("UTC")
        venue_now = self._exchange_now()
        if venue_now is not None and venue_now < cut:
            cut = venue_now  # the exchange's clock is behind ours: its bar may still be forming
        step = self._live_tf.delta
        last_open = cut - step  # bars opening at or before this are complete at `cut`
        frames: dict[str, pd.DataFrame] = {}
        added: dict[str, pd.DataFrame] = {}
        gaps: list[tuple[str, pd.Timestamp]] = []
        for symbol, have in self._frames.items():
            since = have.index[-1] + step if have is not None else last_open - step * self._history
            new = self._fetch(symbol, since, last_open)
            if have is None:
                new = new.iloc[-self._history :]  # the window may hold one bar more
            if new.empty:
                if have is not None:
                    frames[symbol] = have
                continue
            missing = self._holes(since if have is not None else new.index[0], new)
            if len(missing):  # ask once more from the first hole: a page may have been short
                again = self._fetch(symbol, missing[0], last_open)
                new = pd.concat([new, again])
                new = new[~new.index.duplicated(keep="first")].sort_index()
                missing = self._holes(since if have is not None else new.index[0], new)
            gaps += [(symbol, t) for t in missing]
            both = new if have is None else pd.concat([have, new])
            checked, _ = validate_ohlcv(
                both,
                "strict",
                self._live_tf.label,
                symbol=symbol,
                source=f"{self.exchange_id} {symbol} {self.exchange_timeframe} live feed",
            )
            out = checked.copy()
            out.attrs = {"symbol": symbol, "timeframe": self._live_tf.label}
            frames[symbol] = out
            added[symbol] = out.loc[new.index]
        self.refreshes += 1
        if not added:
            return {}
        self._frames.update(frames)
        ready = {s: f for s, f in self._frames.items() if f is not None}
        MarketView.__init__(
            self, ready, timeframe=self._live_tf.label, feature_spec=self._feature_spec
        )
        if gaps:
            self.gaps += gaps
            shown = ", ".join(f"{s} {t}" for s, t in gaps[:5])
            warnings.warn(
                f"{self.exchange_id} returned no {self.exchange_timeframe} bar for {shown}"
                f"{' ...' if len(gaps) > 5 else ''} ({len(gaps)} in all) although later bars "
                "exist; the view holds a gap there (see LiveMarketView.gaps)",
                FeedGapWarning,
                stacklevel=2,
            )
        return added

    def _holes(self, first: pd.Timestamp, new: pd.DataFrame) -> pd.DatetimeIndex:
        """Open times between ``first`` and the newest bar fetched that are not there."""
        grid = pd.date_range(first, new.index[-1], freq=self._live_tf.delta, name="timestamp")
        return grid.difference(pd.DatetimeIndex(new.index))

    def _fetch(self, symbol: str, since: pd.Timestamp, last_open: pd.Timestamp) -> pd.DataFrame:
        """Closed bars of ``symbol`` opening in ``[since, last_open]``, every page of them."""
        parts = []
        cursor = since
        while cursor <= last_open:
            rows = self._request(symbol, cursor)
            page = _frame(rows, symbol, self.exchange_timeframe) if rows else None
            if page is None:
                break
            page = page[(page.index >= cursor) & (page.index <= last_open)]
            if page.empty:
                break
            parts.append(page)
            cursor = page.index[-1] + self._live_tf.delta
        if not parts:
            return _frame([], symbol, self.exchange_timeframe)
        out = pd.concat(parts)
        return out[~out.index.duplicated(keep="first")].sort_index()

    def _exchange_now(self) -> pd.Timestamp | None:
        """The exchange's clock (None if it does not tell it)."""
        fetch_time = getattr(self._client, "fetch_time", None)
        if not callable(fetch_time):
            return None
        ccxt = require("ccxt", "exchange", purpose="the live data feed")
        try:
            millis = fetch_time()
        except ccxt.NotSupported:
            return None
        except ccxt.NetworkError as exc:
            raise BackendError(
                f"the live feed could not read {self.exchange_id}'s clock "
                f"({type(exc).__name__}: {exc}); the view keeps the bars it had, the next "
                "refresh backfills"
            ) from exc
        return None if millis is None else pd.Timestamp(int(millis), unit="ms", tz="UTC")

    def _request(self, symbol: str, cursor: pd.Timestamp) -> list[list[Any]]:
        ccxt = require("ccxt", "exchange", purpose="the live data feed")
        attempt = 0
        while True:
            self.requests += 1
            try:
                rows: list[list[Any]] = self._client.fetch_ohlcv(
                    symbol, self.exchange_timeframe, _ms(cursor), self._page
                )
                return rows
            except ccxt.NetworkError as exc:
                attempt += 1
                if attempt == _TRIES:
                    raise BackendError(
                        f"the live feed of {symbol} {self.exchange_timeframe} got no answer from "
                        f"{self.exchange_id} after {_TRIES} tries ({type(exc).__name__}: {exc}); "
                        "the view keeps the bars it had, the next refresh backfills"
                    ) from exc
                time.sleep(self._pause * 2 ** (attempt - 1))
            except ccxt.BaseError as exc:
                raise ConfigError(
                    f"{self.exchange_id} refused the bars of {symbol} "
                    f"{self.exchange_timeframe}: {exc}"
                ) from exc

    def close(self) -> None:
        """Close the ccxt client's connections."""
        close = getattr(self._client, "close", None)
        if callable(close):
            close()

    def __repr__(self) -> str:
        return (
            f"LiveMarketView({self.exchange_id!r}, symbols={list(self.symbols)}, "
            f"timeframe={self.exchange_timeframe!r}, end={self.end})"
        )
