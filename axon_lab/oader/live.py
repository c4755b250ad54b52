"""The loop on the wall clock: a step after each bar closes, on a live feed, paper or live.

:class:`LiveRunner` drives an :class:`~axon_lab.oader.OADERLoop` whose clock is a wall clock. It
waits until the bar after the feed's newest one has closed (plus ``settle``, the exchange's time
to publish it), refreshes the :class:`~axon_lab.data.LiveMarketView` (which backfills any bars it
missed), hands the new bars to a paper backend, and runs one step. If the exchange has not
published the bar after ``patience`` polls (or does not answer), the step is skipped with a
:class:`~axon_lab.data.FeedGapWarning` rather than decided on an old bar; the next refresh
backfills what was missed.

Paper trading is the live feed with simulated fills: a streaming
:class:`~axon_lab.backends.SimTradingBackend` fed the feed's new bars. It and the loop read a
:class:`BarCloseClock`, which the runner sets to the close of the bar each step decides on, so
the fill model is the backtest's: a decision on bar ``k`` fills at bar ``k + 1``'s open (known
once that bar has closed), as if it had been taken the moment bar ``k`` closed, a few seconds
(``settle`` plus the step's own time) earlier than it really was. No key is needed.

:meth:`LiveRunner.stop` ends a session: it cancels every order the backend still has open
(unless told to leave them) and says what it did, so a Ctrl-C leaves no orphaned orders behind
without the user knowing.

:func:`make_live_runner` wires the feed, the backend (paper: the sim; live: an
:class:`~axon_lab.backends.ExchangeTradingBackend`) and :func:`~axon_lab.oader.make_agent`; the
``axon-lab paper`` and ``axon-lab live`` commands are thin wrappers around it.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import pandas as pd

from axon_lab.clock import Clock, SimulatedClock, WallClock
from axon_lab.data import FeedGapWarning, LiveMarketView
from axon_lab.errors import BackendError, ConfigError
from axon_lab.records import OrderAck, OrderStatus
from axon_lab.risk import RiskLimits

from .loop import OADERLoop
from .stages import run_blocking

__all__ = ["BarCloseClock", "LiveRunSummary", "LiveRunner", "StopReport", "make_live_runner"]

Sleep = Callable[[float], Awaitable[Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveRunSummary:
    """What a live or paper session did.

    Attributes:
        steps: Steps run (each recorded in the explain store).
        bars: Bars the feed appended during the session.
        skipped: Bar closes the exchange did not publish in time (no step was run for them).
        gaps: Bars the exchange skipped between two it returned.
    """

    steps: int
    bars: int
    skipped: int
    gaps: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StopReport:
    """How a session ended its open orders.

    Attributes:
        cancelled: Acks of the orders cancelled.
        left_open: Ids of the orders left open (the user asked to, or a cancel failed).
        errors: Why cancels failed, one line each.
    """

    cancelled: tuple[OrderAck, ...]
    left_open: tuple[str, ...]
    errors: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for the user."""
        parts = [f"cancelled {len(self.cancelled)} open order(s)"]
        if self.left_open:
            parts.append(
                f"LEFT {len(self.left_open)} order(s) OPEN on the exchange: "
                f"{', '.join(self.left_open)}"
            )
        parts += [f"cancel failed: {e}" for e in self.errors]
        return "; ".join(parts)


class BarCloseClock:
    """A clock that reads the close of the bar being decided on; :class:`LiveRunner` sets it.

    A paper session's loop and sim backend read it, so their time is the bar's close, as in a
    backtest. (Not a :class:`~axon_lab.clock.SimulatedClock`: the loop stays live.)

    Args:
        start: The first reading (e.g. the feed's ``end``).
    """

    def __init__(self, start: datetime) -> None:
        self._now = SimulatedClock(start)

    def now(self) -> datetime:
        """The close of the bar of the current step."""
        return self._now.now()

    def set(self, moment: datetime) -> None:
        """Move to ``moment`` (never backwards)."""
        self._now.set(moment)

    def __repr__(self) -> str:
        return f"BarCloseClock({self.now().isoformat()!r})"


class LiveRunner:
    """Steps a loop once per closed bar of a live feed.

    Args:
        loop: The loop (its clock a wall clock; its view ``feed``).
        feed: The live view the loop observes.
        paper: A streaming sim backend fed the new bars (paper trading), or None.
        bar_clock: The loop's :class:`BarCloseClock`, set to each step's bar close (paper).
        settle: Wait this long after a bar's close before asking for it.
        patience: Polls for a bar not yet published, ``settle`` apart, before skipping its step.
        clock: The clock waits are measured on (default: the loop's, or the wall clock when
            the loop reads a ``bar_clock``).
        sleep: Awaited with the seconds to wait (``asyncio.sleep``; a test may pass its own).

    Raises:
        ConfigError: If the loop's clock is simulated or ``patience`` is negative.
    """

    def __init__(
        self,
        loop: OADERLoop,
        feed: LiveMarketView,
        *,
        paper: Any = None,
        bar_clock: BarCloseClock | None = None,
        settle: timedelta = timedelta(seconds=1),
        patience: int = 5,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if loop.remaining is not None:
            raise ConfigError(
                "LiveRunner needs a loop on a wall clock; this one walks a simulated clock "
                "(build it with a backend whose clock is WallClock())"
            )
        if not (isinstance(patience, int) and patience >= 0):
            raise ConfigError(f"patience={patience!r} must be an integer >= 0")
        self.loop, self.feed, self.paper = loop, feed, paper
        self.settle, self.patience = settle, patience
        self.bar_clock = bar_clock
        if clock is None:
            clock = WallClock() if bar_clock is not None else loop.clock
        self.clock = clock
        self._sleep = sleep
        self._due: pd.Timestamp | None = None

    async def _wait_until(self, t: pd.Timestamp) -> None:
        wait = (t - pd.Timestamp(self.clock.now())).total_seconds()
        if wait > 0:
            await self._sleep(wait)

    def _append(self, added: Mapping[str, pd.DataFrame]) -> int:
        if added and self.paper is not None:
            self.paper.append_bars(dict(added))
        return max((len(f) for f in added.values()), default=0)

    async def arun(
        self, steps: int | None = None, *, until: datetime | None = None
    ) -> LiveRunSummary:
        """Run ``steps`` steps (or until ``until``), one after each bar closes.

        With neither, it runs until stopped (Ctrl-C, or a callback returning False).

        Raises:
            ConfigError: If ``steps`` is negative.
        """
        if steps is not None and (isinstance(steps, bool) or steps < 0):
            raise ConfigError(f"steps={steps!r} must be an integer >= 0")
        await self._start()
        done = bars = skipped = 0
        gaps_before = len(self.feed.gaps)
        while steps is None or done < steps:
            due = self.feed.next_close
            if self._due is not None and self._due >= due:
                due = self._due + self.feed.timeframe.delta  # the last one never came
            if until is not None and due > pd.Timestamp(until):
                break
            await self._wait_until(due + self.settle)
            bars += self._append(await self._refresh())
            polls = 0
            while self.feed.end < due and polls < self.patience:
                polls += 1
                await self._sleep(self.settle.total_seconds())
                bars += self._append(await self._refresh())
            self._due = due
            if self.feed.end < due:
                skipped += 1
                warnings.warn(
                    f"{self.feed.exchange_id} has not published the bar closing at {due} after "
                    f"{polls} poll(s); that step is skipped (no decision on an old bar)",
                    FeedGapWarning,
                    stacklevel=2,
                )
                continue
            if self.bar_clock is not None:
                self.bar_clock.set(self.feed.end.to_pydatetime())
            await self.loop.astep()
            done += 1
            if self.loop._stop:
                break
        return LiveRunSummary(
            steps=done, bars=bars, skipped=skipped, gaps=len(self.feed.gaps) - gaps_before
        )

    async def _refresh(self) -> dict[str, pd.DataFrame]:
        """Refresh the feed; an exchange that does not answer is a poll that found nothing."""
        try:
            return await asyncio.to_thread(self.feed.refresh)
        except BackendError as exc:
            warnings.warn(f"{exc}", FeedGapWarning, stacklevel=2)
            return {}

    def run(self, steps: int | None = None, *, until: datetime | None = None) -> LiveRunSummary:
        """Blocking :meth:`arun`."""
        return asyncio.run(self.arun(steps, until=until))

    async def _start(self) -> None:
        start = getattr(self.loop.backend, "start", None)
        if callable(start) and self.paper is None:
            await start()  # an exchange backend: markets, balances, reconciliation (once)

    async def astop(self, *, leave_orders: bool = False) -> StopReport:
        """End the session's orders: cancel every open one, unless ``leave_orders``."""
        backend = self.loop.backend
        open_now = await backend.open_orders()
        if leave_orders:
            return StopReport(cancelled=(), left_open=tuple(a.order_id for a in open_now))
        cancelled: list[OrderAck] = []
        left: list[str] = []
        errors: list[str] = []
        for ack in open_now:
            try:
                done = await backend.cancel_order(ack.order_id)
            except Exception as exc:  # reported to the user, never swallowed
                left.append(ack.order_id)
                errors.append(f"{ack.order_id}: {type(exc).__name__}: {exc}")
                continue
            if done.status is OrderStatus.CANCELLED:
                cancelled.append(done)
            elif done.status not in (OrderStatus.FILLED, OrderStatus.REJECTED):
                left.append(ack.order_id)
        return StopReport(cancelled=tuple(cancelled), left_open=tuple(left), errors=tuple(errors))

    def stop(self, *, leave_orders: bool = False) -> StopReport:
        """Blocking :meth:`astop`."""
        return run_blocking(self.astop(leave_orders=leave_orders))

    def close(self) -> None:
        """Close the loop's store, the feed's client and an exchange backend's session."""
        self.loop.close()
        self.feed.close()
        close = getattr(self.loop.backend, "close", None)
        if callable(close):
            result = close()
            if asyncio.iscoroutine(result):
                run_blocking(result)


def make_live_runner(
    exchange: str,
    symbol: str,
    timeframe: str,
    *,
    trading: Literal["paper", "live"] = "paper",
    url: str | None = None,
    config: Mapping[str, Any] | None = None,
    cash: float = 10_000.0,
    fee_rate: float = 0.001,
    limits: RiskLimits | None = None,
    mode: str = "direct",
    history: int = 200,
    store: str | Any = None,
    run_id: str | None = None,
    settle: timedelta = timedelta(seconds=1),
    patience: int = 5,
    **agent: Any,
) -> LiveRunner:
    """Build the feed, the backend and the agent of a paper or live session.

    Args:
        exchange: The ccxt exchange id.
        symbol: The exchange's symbol, e.g. ``"BTC/USDT"``.
        timeframe: The bar length in the exchange's notation, e.g. ``"1m"``.
        trading: ``"paper"`` (simulated fills, no key) or ``"live"`` (orders go to the
            exchange; ``config`` carries the key).
        url: A base URL replacing the exchange's REST hosts (a local exchange).
        config: ccxt client config (the key and secret, for live).
        cash: The paper account's starting cash (live: the exchange's balance is used).
        fee_rate: The paper account's fee rate.
        limits: Risk limits (required for live).
        mode: Safety mode: ``"direct"``, ``"dry_run"`` or ``"two_phase"``.
        history: Closed bars loaded before the first step.
        store: Explain store or URL (default ``sqlite:///runs/axon.db``).
        run_id: The run's id.
        settle: See :class:`LiveRunner`.
        patience: See :class:`LiveRunner`.
        **agent: Further arguments of :func:`~axon_lab.oader.make_agent`.

    Raises:
        ConfigError: On a bad argument (live without limits, an unknown mode of trading).
    """
    from axon_lab.backends import ExchangeTradingBackend, SimTradingBackend

    from .agent import make_agent

    if trading not in ("paper", "live"):
        raise ConfigError(f"trading={trading!r} must be 'paper' or 'live'")
    if trading == "live" and limits is None:
        raise ConfigError("live trading needs risk limits: pass limits=RiskLimits(...)")
    clock = WallClock()
    feed = LiveMarketView(
        exchange, [symbol], timeframe, history=history, clock=clock, url=url,
        config={k: v for k, v in dict(config or {}).items() if k not in ("apiKey", "secret")},
    )  # fmt: skip
    paper = bar_clock = None
    backend: Any
    if trading == "paper":
        bar_clock = BarCloseClock(feed.end.to_pydatetime())
        paper = SimTradingBackend(feed, cash=cash, fees=fee_rate, clock=bar_clock, streaming=True)
        backend = paper
    else:
        backend = ExchangeTradingBackend(
            exchange, symbols=[symbol], clock=clock, config=config, url=url
        )
        run_blocking(backend.start())  # tick, lot and minimum notional come from its markets
        agent.setdefault("instruments", backend.instruments)
    loop = make_agent(
        feed,
        backend=backend,
        cash=cash,
        fee_rate=fee_rate,
        limits=limits,
        mode=mode,  # type: ignore[arg-type]
        store=store,
        run_id=run_id,
        progress=False,
        config={"trading": trading, "exchange": exchange, "feed_timeframe": timeframe},
        **agent,
    )
    return LiveRunner(
        loop, feed, paper=paper, bar_clock=bar_clock, clock=clock, settle=settle, patience=patience
    )
