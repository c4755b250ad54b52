"""The fail-closed risk chain: SafetyMode -> RiskLimits -> RiskGates -> backend.

Every order passes the lines in that order; the first rejection stops it, and an exception inside
any check is a rejection that records the exception — never a pass. Each line leaves its
:class:`~axon_lab.records.RiskVerdict` (approvals too), so a report shows every check that ran.
Cancels always pass (they only reduce risk) but are not sent in dry run.

Metrics: each operation counts once by outcome (``orders``/``modifies``/``cancels``), each
rejection once under its rule (``risk_rejects``), each exception raised by a backend call once
under its operation (``backend_fails``), and each operation's end-to-end latency is observed.

Examples:
    One order rejected by each defence line, then one that fills:

    >>> from datetime import datetime, timedelta, timezone
    >>> from axon_lab.backends import MockTradingBackend, run_sync
    >>> from axon_lab.clock import SimulatedClock
    >>> from axon_lab.records import OrderRequest
    >>> from axon_lab.risk import KillSwitch, RiskChain, RiskLimits, TwoPhaseMode
    >>> clock = SimulatedClock(datetime(2024, 1, 2, tzinfo=timezone.utc))
    >>> backend = MockTradingBackend({"X": 10.0}, cash=1000.0, clock=clock)
    >>> kill = KillSwitch(clock=clock)
    >>> chain = RiskChain(
    ...     backend,
    ...     mode=TwoPhaseMode(confirm_above=50.0, ttl=timedelta(minutes=1)),
    ...     limits=RiskLimits(max_position_abs=3.0),
    ...     gates=[kill],
    ... )
    >>> def submit(cid, side, qty, **kw):
    ...     order = OrderRequest(client_order_id=cid, symbol="X", side=side, quantity=qty, **kw)
    ...     report = run_sync(chain.place_order(order))
    ...     v = report.rejection or report.verdicts[-1]
    ...     return report.status, v.line.value, v.rule, v.limit, v.observed
    >>> submit("a", "buy", 6.0)  # notional 60 > 50: a confirm token instead of a trade
    ('pending_confirmation', 'safety_mode', 'confirmation_required', 50.0, 60.0)
    >>> submit("b", "buy", 4.0)  # position would be 4 > 3
    ('rejected', 'limit', 'max_position_abs', 3.0, 4.0)
    >>> kill.engage("operator halt")
    >>> submit("c", "buy", 1.0)
    ('rejected', 'gate', 'kill_switch', None, None)
    >>> kill.release("resumed")
    >>> submit("d", "sell", 1.0)  # nothing held: a spot account does not go short
    ('rejected', 'buying_power', 'no_short', 0.0, 1.0)
    >>> submit("e", "buy", 1.0)
    ('filled', 'backend', 'accepted', None, 'filled')
    >>> dict(chain.metrics.snapshot().risk_rejects)
    {'confirmation_required': 1, 'max_position_abs': 1, 'kill_switch': 1, 'no_short': 1}
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from axon_lab.backends.protocol import TradingBackend
from axon_lab.clock import Clock
from axon_lab.errors import RecordError
from axon_lab.metrics import TradingMetrics
from axon_lab.records import (
    DefenceLine,
    Fill,
    GateState,
    GateTransition,
    Instrument,
    MarginPolicy,
    OrderAck,
    OrderRequest,
    OrderStatus,
    PortfolioSnapshot,
    RiskVerdict,
)

from .buying_power import BuyingPowerLine
from .context import OrderContext, approve, read_resting, reject
from .daily import DailyCounter
from .gate import AlwaysOpenGate, RiskGate
from .limits import RiskLimits
from .marking import MarkReport, gate_states, new_transitions
from .report import ExecutionReport
from .safety import ModeName, SafetyDecision, SafetyMode, make_safety_mode

__all__ = ["RiskChain"]


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


_SAFETY, _LIMIT, _GATE, _BUYING_POWER, _BACKEND = (
    DefenceLine.SAFETY_MODE, DefenceLine.LIMIT, DefenceLine.GATE, DefenceLine.BUYING_POWER,
    DefenceLine.BACKEND,
)  # fmt: skip
_REJECTED = OrderStatus.REJECTED


class RiskChain:
    """Runs orders through SafetyMode -> RiskLimits -> RiskGates -> buying power -> backend.

    Fail-closed: the first rejection stops an order, and a check that raises rejects it.

    Args:
        backend: Where approved orders go.
        mode: The safety mode (an instance or ``"direct"``/``"dry_run"``/``"two_phase"``).
        limits: Static limits (default: none).
        gates: Gates checked in order (default: one :class:`~axon_lab.risk.AlwaysOpenGate`).
        metrics: Where counts and latencies go (default: a new
            :class:`~axon_lab.metrics.TradingMetrics`).
        clock: The loop's clock (default: the backend's).
        margin: What the account may borrow (default: spot; see
            :class:`~axon_lab.risk.BuyingPowerLine`).
        instruments: What the venue accepts per symbol (tick, lot, minimums, fees); an order
            on a symbol listed here must meet its rules.
        cancel_on_halt: Cancel every open order when :meth:`mark` finds a gate HALTED.
    """

    def __init__(
        self,
        backend: TradingBackend,
        *,
        mode: ModeName | SafetyMode = "direct",
        limits: RiskLimits | None = None,
        gates: Sequence[RiskGate] | None = None,
        metrics: TradingMetrics | None = None,
        clock: Clock | None = None,
        margin: MarginPolicy | None = None,
        instruments: Mapping[str, Instrument] | None = None,
        cancel_on_halt: bool = False,
    ) -> None:
        self.backend = backend
        self.clock: Clock = clock if clock is not None else backend.clock
        self.mode = make_safety_mode(mode)
        self.limits = limits if limits is not None else RiskLimits()
        self.gates: tuple[RiskGate, ...] = tuple(gates) if gates else (AlwaysOpenGate(),)
        self.metrics = metrics if metrics is not None else TradingMetrics()
        self.daily_orders = DailyCounter(self.clock)
        self.buying_power = BuyingPowerLine(margin)
        self.instruments: dict[str, Instrument] = dict(instruments or {})
        self.cancel_on_halt = cancel_on_halt
        self._dry_runs = 0
        self._transitions_seen: dict[int, int] = {}
        self.last_report: ExecutionReport | None = None

    # ------------------------------------------------------------------ operations

    async def place_order(
        self, order: OrderRequest, *, confirm_token: str | None = None
    ) -> ExecutionReport:
        """Check ``order`` through every line and send it if all approve."""
        start = time.perf_counter()
        try:
            ctx = await self._context(order, "place", confirm_token)
        except Exception as exc:
            report = self._unavailable("place", order, exc)
        else:
            report = await self._run(ctx, "place")
        return self._finish(report, start)

    async def replace_order(
        self,
        order_id: str,
        *,
        quantity: float | None = None,
        price: float | None = None,
        confirm_token: str | None = None,
    ) -> ExecutionReport:
        """Check the replacement terms through every line and send the replace if all approve.

        The replacement is judged at ``quantity`` (default: the old order's full quantity, an
        upper bound of what remains) and ``price`` (default: the old price).
        """
        start = time.perf_counter()
        try:
            old = await self.backend.get_order(order_id)
        except Exception as exc:
            self.metrics.record_backend_fail("get_order")
            report = {
                "operation": "replace",
                "ok": False,
                "status": "error",
                "order_id": order_id,
                "message": f"cannot replace {order_id!r}: {exc}",
                "error": _describe(exc),
            }
            return self._finish(report, start)
        try:
            proxy = old.replace(
                quantity=old.quantity if quantity is None else quantity,
                price=old.price if price is None else price,
            )
        except RecordError as exc:
            report = {
                "operation": "replace",
                "ok": False,
                "status": "invalid",
                "order_id": order_id,
                "message": f"invalid replacement terms for {order_id!r}: {exc}",
                "error": _describe(exc),
            }
            return self._finish(report, start)
        try:
            ctx = await self._context(proxy, f"replace:{order_id}", confirm_token)
        except Exception as exc:
            report = self._unavailable("replace", proxy, exc)
        else:
            report = await self._run(ctx, "replace", order_id, quantity, price)
        return self._finish(report, start)

    async def cancel_order(self, order_id: str) -> ExecutionReport:
        """Cancel an order (never gated; not sent in dry run)."""
        start = time.perf_counter()
        if not self.mode.sends_orders:
            report = {
                "operation": "cancel",
                "ok": True,
                "status": OrderStatus.DRY_RUN.value,
                "order_id": order_id,
                "dry_run": True,
                "message": f"dry run: would have cancelled {order_id!r}; nothing was sent",
            }
            return self._finish(report, start)
        try:
            ack = await self.backend.cancel_order(order_id)
        except Exception as exc:
            self.metrics.record_backend_fail("cancel")
            report = {
                "operation": "cancel",
                "ok": False,
                "status": "error",
                "order_id": order_id,
                "sent": True,
                "message": f"cannot cancel {order_id!r}: {exc}",
                "error": _describe(exc),
            }
        else:
            report = {
                "operation": "cancel",
                "ok": True,
                "status": ack.status.value,
                "order_id": ack.order_id,
                "ack": ack,
                "sent": True,
                "message": f"order {ack.order_id} is {ack.status.value}",
            }
        return self._finish(report, start)

    # ------------------------------------------------------------------ the lines

    async def _context(
        self, order: OrderRequest, operation: str, token: str | None
    ) -> OrderContext:
        portfolio = await self.backend.query_portfolio()
        mark = await self.backend.last_price(order.symbol)
        replaced = operation.partition(":")[2] or None
        resting = await read_resting(self.backend, exclude=replaced, marks={order.symbol: mark})
        instrument = self.instruments.get(order.symbol)
        return OrderContext(
            order=order,
            now=self.clock.now(),
            mark_price=mark,
            portfolio=portfolio,
            operation=operation,
            orders_today=self.daily_orders.count,
            confirm_token=token,
            resting=resting,
            fee_rate=self._fee_rate(instrument),
            instrument=instrument,
        )

    def _fee_rate(self, instrument: Instrument | None) -> float:
        """What a buy reserves for fees: the higher of the instrument's and the backend's rate."""
        backend = getattr(self.backend, "fee_rate", 0.0)  # (not every backend states one)
        known = float(backend) if isinstance(backend, int | float) else 0.0
        return max(known, 0.0 if instrument is None else instrument.fee_rate)

    def check(self, ctx: OrderContext) -> tuple[list[RiskVerdict], SafetyDecision | None]:
        """Run the lines before the backend on ``ctx``; stops at the first rejection.

        Returns:
            The verdicts and the safety decision (None if the safety mode itself failed).
        """
        verdicts: list[RiskVerdict] = []
        try:
            # every equity reading reaches the gates, even when an earlier line refuses the
            # order and the gates never judge it (a refused order's drawdown still counts)
            self._mark_gates(ctx.portfolio, ctx.now)
        except Exception as exc:
            verdicts.append(self._exception(ctx, DefenceLine.GATE, "marking the gates", exc))
            return verdicts, None
        try:
            decision = self.mode.check(ctx)
            if not isinstance(decision, SafetyDecision):
                raise TypeError(f"{self.mode!r}.check returned {decision!r}, not a SafetyDecision")
            _check_verdict(decision.verdict, _SAFETY)
        except Exception as exc:
            verdicts.append(self._exception(ctx, DefenceLine.SAFETY_MODE, repr(self.mode), exc))
            return verdicts, None
        verdicts.append(decision.verdict)
        if not decision.verdict.approved:
            return verdicts, decision
        if decision.order is not ctx.order:  # (a confirmed two-phase order: the first one)
            ctx = dataclasses.replace(ctx, order=decision.order)
        try:
            limit_verdicts = _check_verdicts(self.limits.check(ctx), _LIMIT)
        except Exception as exc:
            verdicts.append(self._exception(ctx, DefenceLine.LIMIT, "RiskLimits.check", exc))
            return verdicts, decision
        verdicts.extend(limit_verdicts)
        if _first_rejection(limit_verdicts) is not None:
            return verdicts, decision
        for gate in self.gates:
            try:
                gate_verdict = _check_verdict(gate.check(ctx), _GATE)
            except Exception as exc:
                verdicts.append(self._exception(ctx, DefenceLine.GATE, repr(gate), exc))
                return verdicts, decision
            verdicts.append(gate_verdict)
            if not gate_verdict.approved:
                return verdicts, decision
        try:
            verdicts.append(_check_verdict(self.buying_power.check(ctx), _BUYING_POWER))
        except Exception as exc:
            verdicts.append(self._exception(ctx, _BUYING_POWER, repr(self.buying_power), exc))
        return verdicts, decision

    # ------------------------------------------------------------------ marking

    async def mark(self) -> MarkReport:
        """Show every gate the portfolio marked to market now, whether or not an order comes.

        The loop calls this every step before Decide, so a drawdown breaker trips between
        orders. With ``cancel_on_halt``, a HALTED gate cancels every open order (each cancel
        is a report of its own).

        Returns:
            The portfolio, each gate's state, and the cancels it caused.
        """
        now = self.clock.now()
        portfolio = await self.backend.query_portfolio()
        self._mark_gates(portfolio, now)
        states = gate_states(self.gates)
        cancels: list[ExecutionReport] = []
        if self.cancel_on_halt and GateState.HALTED in states.values():
            for ack in await self.backend.open_orders():
                cancels.append(await self.cancel_order(ack.order_id))
        return MarkReport(portfolio=portfolio, gate_states=states, cancels=tuple(cancels))

    def _mark_gates(self, portfolio: PortfolioSnapshot, now: datetime) -> None:
        for gate in self.gates:
            mark = getattr(gate, "mark", None)  # a gate written to the older protocol has none
            if callable(mark):
                mark(portfolio, now)

    def gate_states(self) -> dict[str, GateState]:
        """Each gate's state now, by name."""
        return gate_states(self.gates)

    def drain_transitions(self) -> tuple[GateTransition, ...]:
        """The gate state changes since the last call (a step's record holds them)."""
        return new_transitions(self.gates, self._transitions_seen)

    async def _run(
        self,
        ctx: OrderContext,
        op: Literal["place", "replace"],
        order_id: str | None = None,
        quantity: float | None = None,
        price: float | None = None,
    ) -> dict[str, Any]:
        verdicts, decision = self.check(ctx)
        rejection = _first_rejection(verdicts)
        if rejection is not None or decision is None:
            rejection = rejection or verdicts[-1]
            token = decision.confirm_token if decision is not None else None
            pending = token is not None
            ack = None
            if pending:
                ack = _synthetic_ack(ctx.order, OrderStatus.PENDING_CONFIRMATION, ctx, token)
            return {
                "operation": op,
                "ok": False,
                "status": "pending_confirmation" if pending else "rejected",
                "order": ctx.order,
                "order_id": order_id,
                "verdicts": tuple(verdicts),
                "ack": ack,
                "confirm_token": token,
                "message": rejection.message
                or f"rejected by {rejection.line.value}: {rejection.rule}",
            }
        order = decision.order
        if ctx.is_new_order:
            self.daily_orders.increment()
        if not decision.dispatch:
            self._dry_runs += 1
            ack = _synthetic_ack(order, OrderStatus.DRY_RUN, ctx, None, f"dry-run-{self._dry_runs}")
            return {
                "operation": op,
                "ok": True,
                "status": OrderStatus.DRY_RUN.value,
                "order": order,
                "order_id": order_id,
                "verdicts": tuple(verdicts),
                "ack": ack,
                "dry_run": True,
                "message": (
                    "dry run: the order passed every check; this is what would have been sent"
                ),
            }
        try:
            if op == "place":
                ack = await self.backend.place_order(order)
            else:
                ack = await self.backend.replace_order(
                    order_id or "", quantity=quantity, price=price
                )
        except Exception as exc:
            self.metrics.record_backend_fail(op)
            verdict = reject(
                ctx,
                DefenceLine.BACKEND,
                "backend_error",
                message=f"the backend raised {_describe(exc)}",
            )
            return {
                "operation": op,
                "ok": False,
                "status": "error",
                "order": order,
                "order_id": order_id,
                "verdicts": (*verdicts, verdict),
                "sent": True,
                "message": verdict.message,
                "error": _describe(exc),
            }
        status = ack.status.value
        if ack.status is _REJECTED:
            verdict = reject(
                ctx,
                DefenceLine.BACKEND,
                "backend_rejected",
                observed=status,
                message=ack.message or "the backend rejected the order",
            )
        else:
            verdict = approve(ctx, _BACKEND, "accepted", observed=status)
        fills, note = await self._fills(ack.order_id)
        return {
            "operation": op,
            "ok": verdict.approved,
            "status": status if verdict.approved else "rejected",
            "order": order,
            "order_id": ack.order_id,
            "verdicts": (*verdicts, verdict),
            "ack": ack,
            "fills": fills,
            "sent": True,
            "message": note or verdict.message or f"order {ack.order_id} is {status}",
        }

    # ------------------------------------------------------------------ helpers

    async def _fills(self, order_id: str) -> tuple[tuple[Fill, ...], str]:
        try:
            return tuple(await self.backend.fills(order_id)), ""
        except Exception as exc:
            self.metrics.record_backend_fail("fills")
            return (), f"the order was sent, but its fills could not be read: {_describe(exc)}"

    def _unavailable(
        self, op: Literal["place", "replace"], order: OrderRequest, exc: Exception
    ) -> dict[str, Any]:
        self.metrics.record_backend_fail("context")
        verdict = RiskVerdict(
            approved=False,
            line=DefenceLine.BACKEND,
            rule="context_unavailable",
            message=(
                f"could not read the portfolio or the price of {order.symbol!r} to check the "
                f"order ({_describe(exc)}); nothing was sent"
            ),
            timestamp=self.clock.now(),
            client_order_id=order.client_order_id,
        )
        return {
            "operation": op,
            "ok": False,
            "status": "rejected",
            "order": order,
            "verdicts": (verdict,),
            "message": verdict.message,
            "error": _describe(exc),
        }

    @staticmethod
    def _exception(ctx: OrderContext, line: DefenceLine, check: str, exc: Exception) -> RiskVerdict:
        return reject(
            ctx,
            line,
            f"{line.value}_exception",
            message=f"{check} raised {_describe(exc)}; the order is rejected (fail-closed)",
        )

    def _finish(self, fields: dict[str, Any], start: float) -> ExecutionReport:
        """Build the operation's report (its latency measured now), count it, show it the gates."""
        fields["latency_s"] = time.perf_counter() - start
        report = ExecutionReport(**fields)
        self.last_report = report
        op = report.operation
        metrics = self.metrics
        if op == "place":
            metrics.record_order(report.status)
        elif op == "replace":
            metrics.record_modify(report.status)
        elif op == "cancel":
            metrics.record_cancel(report.status)
        else:
            raise KeyError(op)
        rejection = report.rejection
        if rejection is not None:
            self.metrics.record_risk_reject(rejection.rule)
        self.metrics.observe_latency(report.latency_s)
        self.metrics.set_daily_orders(self.daily_orders.count)
        for gate in self.gates:
            try:
                gate.observe(report)
            except Exception as exc:  # the order is done; a gate that cannot learn must be seen
                warnings.warn(
                    f"gate {gate!r} failed to observe a report: {_describe(exc)}",
                    RuntimeWarning,
                    stacklevel=3,
                )
        return report

    def __repr__(self) -> str:
        return (
            f"RiskChain(backend={self.backend!r}, mode={self.mode!r}, limits={self.limits!r}, "
            f"gates={list(self.gates)!r})"
        )


def _first_rejection(verdicts: Sequence[RiskVerdict]) -> RiskVerdict | None:
    for verdict in verdicts:  # next((v for v in verdicts if not v.approved), None)
        if not verdict.approved:
            return verdict
    return None


def _check_verdict(verdict: RiskVerdict, line: DefenceLine) -> RiskVerdict:
    if not isinstance(verdict, RiskVerdict):
        raise TypeError(f"the {line.value} check returned {verdict!r}, not a RiskVerdict")
    return verdict


def _check_verdicts(verdicts: Iterable[RiskVerdict], line: DefenceLine) -> tuple[RiskVerdict, ...]:
    out = tuple(verdicts)
    if not out:
        raise TypeError(f"the {line.value} check returned no verdict")
    for verdict in out:
        _check_verdict(verdict, line)
    return out


def _synthetic_ack(
    order: OrderRequest,
    status: OrderStatus,
    ctx: OrderContext,
    token: str | None,
    order_id: str | None = None,
) -> OrderAck:
    return OrderAck(
        order_id=order_id or f"unsent-{order.client_order_id}",
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        quantity=order.quantity,
        status=status,
        timestamp=ctx.now,
        message="not sent to the backend",
        confirm_token=token,
    )
