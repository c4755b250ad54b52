"""A local exchange for tests and demos: Binance's spot REST subset on 127.0.0.1, sim fills.

:class:`LocalExchangeServer` serves the endpoints ccxt's ``binance`` client calls for markets,
tickers, OHLCV, balances, orders and trades (see ``_localex_app``), on a real HTTP server
(aiohttp, which ccxt already depends on) running in one background thread. Its matching engine is
the sim backend's fill model over the bars it is given (``_localex_engine``); its clock is the
one passed in — a test's :class:`~axon_lab.clock.SimulatedClock` that the test moves, or a
:class:`~axon_lab.clock.WallClock` for a demo (then only bars complete by now are visible).
:attr:`LocalExchangeServer.faults` injects latency, 5xx, 429, drops and timeouts (see
:class:`~axon_lab.backends.ExchangeFaults`).

Binance rather than a simpler venue: it is what most users trade, and with ccxt's options set
as :meth:`LocalExchangeServer.ccxt_config` sets them, loading markets needs one endpoint
(``exchangeInfo``). The server binds to the loopback interface only.

Examples:
    >>> from axon_lab.clock import SimulatedClock
    >>> from axon_lab.data import make_synthetic
    >>> bars = make_synthetic(24, timeframe="1h", start="2024-01-01", seed=1, symbol="BTC/USDT")
    >>> clock = SimulatedClock(bars.index[-1].to_pydatetime() + (bars.index[1] - bars.index[0]))
    >>> with LocalExchangeServer({"BTC/USDT": bars}, cash=1_000.0, clock=clock) as server:
    ...     server.url.startswith("http://127.0.0.1:")
    True
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from datetime import datetime
from types import TracebackType
from typing import Any

import pandas as pd

from axon_lab._imports import require
from axon_lab.clock import Clock, SimulatedClock, WallClock
from axon_lab.errors import BackendError, ConfigError
from axon_lab.records import Instrument

from ._exchange_markets import override_urls
from ._localex_engine import LocalExchangeEngine
from ._localex_faults import ExchangeFaults

__all__ = ["LocalExchangeServer"]

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class LocalExchangeServer:
    """A Binance-shaped exchange on 127.0.0.1, in a background thread.

    Args:
        bars: One OHLCV frame per ``"BASE/QUOTE"`` symbol, on common timestamps.
        cash: Starting balance of the quote asset.
        clock: The exchange's clock (a test's simulated clock, or a wall clock).
        fees: Fee per fill, as a fraction of notional, charged in the quote asset.
        instruments: Tick, lot and minimum-notional rules per symbol.
        timeframe: The bar length, when the frames do not carry ``attrs["timeframe"]``.
        api_key: The key signed requests must carry.
        secret: The HMAC secret signed requests are checked with.
        host: Loopback only (``127.0.0.1``).
        port: 0 picks a free port.

    Raises:
        ConfigError: For a non-loopback host or bad bars.
    """

    def __init__(
        self,
        bars: Mapping[str, pd.DataFrame],
        *,
        cash: float,
        clock: Clock,
        fees: float = 0.0,
        instruments: Mapping[str, Instrument] | None = None,
        timeframe: str | None = None,
        api_key: str = "local-key",
        secret: str = "local-secret",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if host not in _LOOPBACK:
            raise ConfigError(
                f"host={host!r}: the local exchange serves the loopback interface only; "
                "use host='127.0.0.1'"
            )
        require("aiohttp", "exchange", purpose="the local exchange server")
        self.engine = LocalExchangeEngine(
            bars, cash=cash, clock=clock, fees=fees, instruments=instruments, timeframe=timeframe
        )
        self._fees, self._timeframe = fees, timeframe
        self.faults = ExchangeFaults()
        self.api_key, self.secret = api_key, secret
        self._host, self._port = host, port
        self._clock = clock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: Any = None

    @classmethod
    def on_wall_clock(
        cls,
        bars: Mapping[str, pd.DataFrame],
        *,
        cash: float,
        history: int,
        timeframe: str | None = None,
        **kwargs: Any,
    ) -> LocalExchangeServer:
        """A demo exchange on the wall clock, replaying ``bars`` as if they were happening now.

        The bars are shifted in time so that the first ``history`` of them are complete now and
        each later one opens one bar after the other from now on; the exchange serves and fills
        a bar only once the wall clock has passed it.

        Raises:
            ConfigError: If ``history`` is not between 1 and the number of bars.
        """
        first = next(iter(bars.values()))
        if not (isinstance(history, int) and 1 <= history <= len(first)):
            raise ConfigError(f"history={history!r} must be between 1 and {len(first)} bars")
        step = pd.Timedelta(timeframe) if timeframe else first.index[1] - first.index[0]
        now = pd.Timestamp.now(tz="UTC").floor("s")
        shift = now - (first.index[history - 1] + step)
        moved = {s: f.set_axis(f.index + shift) for s, f in bars.items()}
        tf = timeframe or _label(step)
        return cls(moved, cash=cash, clock=WallClock(), timeframe=tf, **kwargs)

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """The server's base URL, e.g. ``http://127.0.0.1:50123``.

        Raises:
            BackendError: If the server is not running.
        """
        if self._thread is None:
            raise BackendError("the local exchange is not running; call start() first")
        return f"http://{self._host}:{self._port}"

    def start(self) -> LocalExchangeServer:
        """Start serving in a background thread; returns self once it listens."""
        if self._thread is not None:
            return self
        from ._localex_app import make_app

        web = require("aiohttp.web", "exchange", purpose="the local exchange server")
        app = make_app(lambda: self.engine, self.faults, api_key=self.api_key, secret=self.secret)
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        async def serve() -> None:
            runner = web.AppRunner(app, handle_signals=False, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
            self._runner = runner
            self._port = runner.addresses[0][1]

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(serve())
            except BaseException as exc:  # handed to the starting thread, which raises it
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        thread = threading.Thread(target=run, name="axon-local-exchange", daemon=True)
        thread.start()
        ready.wait()
        if failure:
            thread.join()
            raise BackendError(f"the local exchange could not start: {failure[0]}") from failure[0]
        self._loop, self._thread = loop, thread
        return self

    def stop(self) -> None:
        """Stop the server and join its thread (idempotent)."""
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._thread = self._loop = None

    def __enter__(self) -> LocalExchangeServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ market

    def reset(
        self,
        bars: Mapping[str, pd.DataFrame],
        *,
        cash: float,
        clock: Clock,
        instruments: Mapping[str, Instrument] | None = None,
    ) -> None:
        """Start over with a fresh account, book and bars (the server keeps running).

        Pending faults are cleared; their counts stay. Clients of the old account must be
        closed: order and trade ids start again from 1.
        """
        self.faults.clear()
        self._clock = clock
        self.engine = LocalExchangeEngine(
            bars,
            cash=cash,
            clock=clock,
            fees=self._fees,
            instruments=instruments,
            timeframe=self._timeframe,
        )

    def append_bars(self, bars: Mapping[str, pd.DataFrame]) -> None:
        """Append newer bars of every symbol (they fill resting orders as the clock passes)."""
        self.engine.append_bars(bars)

    def advance_to(self, t: datetime) -> None:
        """Move a simulated clock to ``t`` and match what the completed bars fill.

        Raises:
            ConfigError: If the clock is not a :class:`~axon_lab.clock.SimulatedClock`.
        """
        if not isinstance(self._clock, SimulatedClock):
            raise ConfigError("advance_to needs a SimulatedClock; a wall clock moves by itself")
        self.engine.advance_to(t)

    def push_prices(self, prices: Mapping[str, float], *, volume: float = 0.0) -> None:
        """Append one flat bar per symbol opening now and move the clock past it.

        A test's way to move the market: symbols not in ``prices`` repeat their last close.
        """
        with self.engine.locked():
            now = pd.Timestamp(self._clock.now())
            tf = pd.Timedelta(self.engine.timeframe)
            index = pd.DatetimeIndex([now], name="timestamp").as_unit("ns")
            frames = {}
            for sym in self.engine.symbol_ids.values():
                p = float(prices.get(sym, self.engine.price(sym)))
                frames[sym] = pd.DataFrame(
                    {"open": [p], "high": [p], "low": [p], "close": [p], "volume": [volume]},
                    index=index,
                )
            self.append_bars(frames)
            self.advance_to((now + tf).to_pydatetime())

    # ------------------------------------------------------------------ clients

    def ccxt_config(self, *, timeout_ms: int = 10_000) -> dict[str, Any]:
        """The ccxt ``binance`` constructor config that points a client here.

        URLs are set by ``exchange.urls['api'] = ...`` after construction; see
        :meth:`point_ccxt`.
        """
        return {
            "apiKey": self.api_key,
            "secret": self.secret,
            "timeout": timeout_ms,
            "enableRateLimit": True,
            "options": {
                "fetchMarkets": {"types": ["spot"]},
                "fetchCurrencies": False,
                "fetchMargins": False,
                "warnOnFetchOpenOrdersWithoutSymbol": False,
                "defaultType": "spot",
            },
        }

    def point_ccxt(self, exchange: Any) -> Any:
        """Point a ccxt ``binance`` client's REST URLs at this server; returns the client."""
        exchange.urls["api"] = override_urls(exchange.urls["api"], self.url)
        return exchange

    def __repr__(self) -> str:
        where = self.url if self._thread is not None else "stopped"
        return f"LocalExchangeServer({sorted(self.engine.symbol_ids.values())}, {where})"


def _label(step: pd.Timedelta) -> str:
    seconds = int(step.total_seconds())
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
