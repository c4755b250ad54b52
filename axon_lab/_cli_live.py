"""The ``axon-lab paper`` and ``axon-lab live`` commands (registered by :mod:`axon_lab.cli`).

Both run :func:`~axon_lab.oader.make_live_runner`'s session: the rules agent on an exchange's
live closed bars, one step per bar; ``paper`` with simulated fills and no key, ``live`` with
orders sent to the exchange, behind a confirmation flag and required limits.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

__all__ = ["live", "paper"]


def _echo(message: str, *, err: bool = False) -> None:
    """Print one message as :mod:`axon_lab.cli` does: control characters shown, secrets redacted."""
    from axon_lab._redact import redact_secrets
    from axon_lab._text import printable

    typer.echo(printable(redact_secrets(message)), err=err)


_REAL_MONEY_FLAG = "--i-understand-real-money"
_Exchange = Annotated[str, typer.Option(help="The ccxt exchange id.")]
_Symbol = Annotated[str, typer.Option(help="The exchange's symbol.")]
_Timeframe = Annotated[str, typer.Option(help="Bar length in the exchange's notation, e.g. 1m.")]
_Url = Annotated[
    str | None, typer.Option(help="Base URL replacing the exchange's (a local exchange).")
]
_Steps = Annotated[
    int | None, typer.Option(help="Stop after this many steps (default: until Ctrl-C).")
]
_Store = Annotated[str, typer.Option(help="Explain store URL.")]
_History = Annotated[int, typer.Option(help="Closed bars loaded before the first step.")]
_Leave = Annotated[
    bool, typer.Option(help="On exit, leave open orders on the exchange instead of cancelling.")
]


def _run_session(runner: Any, steps: int | None, *, leave_orders: bool, what: str) -> None:
    """Run a paper or live session; on exit (Ctrl-C too) cancel or report its open orders."""
    from axon_lab.errors import AxonError

    loop = runner.loop
    _echo(
        f"{what} run {loop.run_id}: {runner.feed.exchange_id} {runner.feed.symbols[0]} "
        f"{runner.feed.exchange_timeframe}, {len(runner.feed.as_of(runner.feed.end))} bars "
        "loaded; one step per closed bar (Ctrl-C stops)"
    )
    code = 0
    try:
        summary = runner.run(steps)
        _echo(
            f"{summary.steps} steps, {summary.bars} new bars, {summary.skipped} skipped, "
            f"{summary.gaps} gaps"
        )
    except KeyboardInterrupt:
        _echo(f"stopped by Ctrl-C after {loop.step_index} steps")
    except AxonError as exc:
        _echo(f"error: {exc}", err=True)
        code = 2
    try:
        stopped = runner.stop(leave_orders=leave_orders)
        _echo(stopped.describe())
    finally:
        runner.close()
    _echo(f"recorded in the explain store as run {loop.run_id}")
    if code:
        raise typer.Exit(code)


def paper(
    exchange: _Exchange = "binance",
    symbol: _Symbol = "BTC/USDT",
    timeframe: _Timeframe = "1m",
    url: _Url = None,
    steps: _Steps = None,
    cash: Annotated[float, typer.Option(help="Paper account's starting cash.")] = 10_000.0,
    fee_rate: Annotated[float, typer.Option(help="Paper account's fee rate.")] = 0.001,
    history: _History = 200,
    store: _Store = "sqlite:///runs/axon.db",
    run_id: Annotated[str | None, typer.Option(help="The run's id.")] = None,
) -> None:
    """Paper trading: the rules agent on live closed bars, simulated fills, no key needed."""
    from axon_lab.errors import AxonError
    from axon_lab.oader import make_live_runner

    try:
        runner = make_live_runner(
            exchange, symbol, timeframe, trading="paper", url=url, cash=cash,
            fee_rate=fee_rate, history=history, store=store, run_id=run_id,
        )  # fmt: skip
    except AxonError as exc:
        _echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    _run_session(runner, steps, leave_orders=False, what="paper")


def live(
    exchange: _Exchange = "binance",
    symbol: _Symbol = "BTC/USDT",
    timeframe: _Timeframe = "1m",
    url: _Url = None,
    steps: _Steps = None,
    max_order_notional: Annotated[
        float | None, typer.Option(help="Required: the largest order, in the quote asset.")
    ] = None,
    max_position_value: Annotated[
        float | None, typer.Option(help="Largest position value, in the quote asset.")
    ] = None,
    max_daily_orders: Annotated[int, typer.Option(help="Most orders per UTC day.")] = 50,
    mode: Annotated[
        str, typer.Option(help="Safety mode: two_phase (orders wait for a person), direct.")
    ] = "two_phase",
    i_understand_real_money: Annotated[
        bool, typer.Option(_REAL_MONEY_FLAG, help="Required: orders use real money.")
    ] = False,
    leave_orders: _Leave = False,
    brackets: Annotated[
        bool,
        typer.Option(
            help="Attach stop-loss/take-profit to entries; the exchange backend places no "
            "bracket orders and rejects them, so live entries go without by default."
        ),
    ] = False,
    history: _History = 200,
    store: _Store = "sqlite:///runs/axon.db",
    run_id: Annotated[str | None, typer.Option(help="The run's id.")] = None,
) -> None:
    """Live trading: the rules agent sends real orders (key from AXON_EXCHANGE_API_KEY/SECRET)."""
    import os

    from axon_lab.errors import AxonError
    from axon_lab.oader import make_live_runner
    from axon_lab.risk import RiskLimits

    if not i_understand_real_money:
        _echo(
            f"error: live trading sends real orders with real money; add {_REAL_MONEY_FLAG} to "
            "confirm (try `axon-lab paper` first: the same session with simulated fills)",
            err=True,
        )
        raise typer.Exit(2)
    if max_order_notional is None:
        _echo(
            "error: live trading refuses to start without limits; pass --max-order-notional "
            "(the largest order in the quote asset, e.g. --max-order-notional 50)",
            err=True,
        )
        raise typer.Exit(2)
    if mode not in ("two_phase", "direct", "dry_run"):
        _echo(f"error: --mode {mode!r} must be two_phase, direct or dry_run", err=True)
        raise typer.Exit(2)
    key, secret = os.environ.get("AXON_EXCHANGE_API_KEY"), os.environ.get("AXON_EXCHANGE_SECRET")
    if not key or not secret:
        _echo(
            "error: live trading needs the exchange key: set AXON_EXCHANGE_API_KEY and "
            "AXON_EXCHANGE_SECRET (try the exchange's testnet first)",
            err=True,
        )
        raise typer.Exit(2)
    try:
        limits = RiskLimits(
            max_order_notional=max_order_notional,
            max_position_value=max_position_value,
            max_daily_orders=max_daily_orders,
        )
        runner = make_live_runner(
            exchange, symbol, timeframe, trading="live", url=url,
            config={"apiKey": key, "secret": secret}, limits=limits, mode=mode,
            history=history, store=store, run_id=run_id, brackets=brackets,
        )  # fmt: skip
    except AxonError as exc:
        _echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if mode == "two_phase":
        _echo(
            "two-phase mode: every order waits for a person's confirmation "
            "(--mode direct sends without asking)"
        )
    if brackets:
        _echo(
            "note: entries carry stop-loss and take-profit levels, which the exchange backend "
            "does not place; they are rejected and recorded as backend verdicts"
        )
    else:
        _echo(
            "note: entries carry no stop-loss or take-profit (the exchange backend places no "
            "bracket orders); the risk chain's gates mark equity every bar and --max-order-"
            "notional / --max-position-value cap the exposure"
        )
    _run_session(runner, steps, leave_orders=leave_orders, what="LIVE")
