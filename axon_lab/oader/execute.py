"""Execute: :class:`ToolExecutor` sends decisions through the trading tools and the risk chain.

The order goes out as the arguments of a ``place_order`` tool call — the same argument model an
LLM's tool call fills in, through the tool's typed entry (no JSON round trip) — so the
fail-closed chain treats a rules decision and an LLM's tool call alike. Verdicts, acks and fills
come from the chain's structured :class:`~axon_lab.risk.ExecutionReport`.

Entry orders live for one decision interval: with ``cancel_stale=True`` an entry still resting at
the next step is cancelled (through the ``cancel_order`` tool) before anything new is sent, so a
limit priced for one bar never fills days later at a stale level. Bracket exits the backend holds
(reduce-only orders) are left alone.

Every fill the backend booked since the previous call is reported, whichever order it belongs to
(resting entries, bracket exits), so each fill is recorded exactly once, in the step that saw it.

Two-phase confirmation: with a :class:`~axon_lab.risk.ConfirmationQueue`, an order that comes
back ``pending_confirmation`` is put to the queue's policy at once. A confirmation resends the
same arguments with the token (the chain records ``confirmed``), a denial is recorded as a
``confirmation_denied`` verdict, and a wait leaves the order to a person, whose answer the next
step carries out. Every answer is a verdict on the safety-mode line naming who gave it.
"""

from __future__ import annotations

import math

from pydantic import ValidationError

from axon_lab.backends.protocol import TradingBackend
from axon_lab.errors import ToolError
from axon_lab.records import (
    Action,
    Decision,
    DefenceLine,
    Fill,
    Observation,
    OrderAck,
    OrderStatus,
    RiskVerdict,
    Side,
)
from axon_lab.risk import ConfirmationQueue, ExecutionReport, PendingConfirmation
from axon_lab.tools import PlaceOrderArgs, ToolArgumentError, TradingToolRegistry

from .stages import Execution, run_blocking

__all__ = ["FillCursor", "ToolExecutor"]

_OPEN = frozenset({OrderStatus.NEW, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})
_HOLD = Action.HOLD


class FillCursor:
    """Reads the fills a backend booked since the last read.

    Uses the backend's ``fill_count`` / ``fills_since`` when it has them (no copy of the whole
    history per step), else slices ``fills()``.
    """

    def __init__(self, backend: TradingBackend) -> None:
        self.backend = backend
        self._seen: int | None = None

    async def _count(self) -> int:
        count = getattr(self.backend, "fill_count", None)
        if isinstance(count, int):
            return count
        return len(await self.backend.fills())

    async def start(self) -> None:
        """Mark everything booked so far as seen (once; later calls do nothing)."""
        if self._seen is None:
            self._seen = await self._count()

    async def read(self) -> tuple[Fill, ...]:
        """Fills booked since the previous read."""
        await self.start()
        seen = self._seen or 0
        since = getattr(self.backend, "fills_since", None)
        if callable(since) and isinstance(getattr(self.backend, "fill_count", None), int):
            new: tuple[Fill, ...] = since(seen)
        else:
            new = tuple((await self.backend.fills())[seen:])
        self._seen = seen + len(new)
        return new


class ToolExecutor:
    """The Execute stage: cancel stale entries, place the decision's order, collect fills.

    Args:
        tools: The trading tools (``make_trading_tools(...)``), i.e. the risk chain and backend.
        cancel_stale: Cancel entry orders still resting from the previous step.
        confirmations: Who answers orders pending two-phase confirmation (None: nobody; they
            stay pending and their tokens expire).

    Examples:
        >>> from datetime import datetime, timezone
        >>> from axon_lab.backends import MockTradingBackend
        >>> from axon_lab.records import Decision, Observation, PortfolioSnapshot
        >>> from axon_lab.risk import RiskLimits
        >>> from axon_lab.tools import make_trading_tools
        >>> t = datetime(2024, 1, 2, tzinfo=timezone.utc)
        >>> tools = make_trading_tools(MockTradingBackend({"X": 10.0}, cash=100.0),
        ...                            limits=RiskLimits(max_order_notional=50.0), id_prefix="r")
        >>> obs = Observation(timestamp=t, symbols=("X",), timeframe="1d", bars={"X": ()},
        ...                   portfolio=PortfolioSnapshot.build(timestamp=t, cash=100.0))
        >>> execute = ToolExecutor(tools)
        >>> big = Decision(action="buy", symbol="X", quantity=6.0, confidence=0.9, source="rules")
        >>> done = execute(big, obs)
        >>> [(v.rule, v.approved) for v in done.verdicts][-1], done.fills
        (('max_order_notional', False), ())
        >>> done = execute(big.replace(quantity=2.0), obs)
        >>> done.acks[0].status.value, [(f.quantity, f.price) for f in done.fills]
        ('filled', [(2.0, 10.0)])
    """

    def __init__(
        self,
        tools: TradingToolRegistry,
        *,
        cancel_stale: bool = True,
        confirmations: ConfirmationQueue | None = None,
    ) -> None:
        self.tools = tools
        self.cancel_stale = cancel_stale
        self.confirmations = confirmations
        self.cursor = FillCursor(tools.backend)
        self._entries: set[str] = set()

    def _keep(
        self, report: ExecutionReport, verdicts: list[RiskVerdict], acks: list[OrderAck]
    ) -> None:
        verdicts.extend(report.verdicts)
        if report.ack is not None:
            acks.append(report.ack)
            if report.ack.status in _OPEN:
                self._entries.add(report.ack.order_id)

    def _answer_verdict(self, pending: PendingConfirmation, given: bool, by: str) -> RiskVerdict:
        return RiskVerdict(
            approved=given,
            line=DefenceLine.SAFETY_MODE,
            rule="confirmation_given" if given else "confirmation_denied",
            limit=None,
            observed=pending.notional,
            message=f"{'confirmed' if given else 'denied'} by {by}",
            timestamp=self.tools.chain.clock.now(),
            client_order_id=pending.order.client_order_id,
        )

    async def _carry_out(
        self,
        pending: PendingConfirmation,
        answer: str,
        by: str,
        verdicts: list[RiskVerdict],
        acks: list[OrderAck],
    ) -> None:
        if answer == "wait":
            return
        verdicts.append(self._answer_verdict(pending, answer == "confirm", by))
        if answer != "confirm":
            return
        args = PlaceOrderArgs.model_validate_json(pending.arguments)
        report = await self._place(args.model_copy(update={"confirm_token": pending.token}))
        self._keep(report, verdicts, acks)

    async def _confirm(
        self,
        report: ExecutionReport,
        arguments: PlaceOrderArgs,
        verdicts: list[RiskVerdict],
        acks: list[OrderAck],
    ) -> None:
        queue = self.confirmations
        if queue is None or report.confirm_token is None or report.order is None:
            return
        rejection = report.rejection
        notional = rejection.observed if rejection is not None else None
        pending = PendingConfirmation(
            token=report.confirm_token,
            order=report.order,
            notional=float(notional) if isinstance(notional, float) else math.nan,
            issued_at=self.tools.chain.clock.now(),
            arguments=arguments.model_dump_json(exclude_none=True),
        )
        answer, by = queue.offer(pending)
        await self._carry_out(pending, answer, by, verdicts, acks)

    async def _cancel_stale(self, verdicts: list[RiskVerdict], acks: list[OrderAck]) -> None:
        if not self._entries:
            return
        resting = {a.order_id for a in await self.tools.backend.open_orders()}
        for order_id in sorted(self._entries & resting):
            report = await self.tools.chain.cancel_order(order_id)
            verdicts.extend(report.verdicts)
            if report.ack is not None:
                acks.append(report.ack)
        self._entries.clear()

    @staticmethod
    def order_arguments(decision: Decision) -> PlaceOrderArgs:
        """The ``place_order`` arguments for ``decision`` (the model an LLM tool call fills in).

        Raises:
            ToolError: If the decision does not make valid order arguments.
        """
        if decision.quantity is None:
            raise ToolError(f"a {decision.action.value} decision has no quantity to order")
        try:
            return PlaceOrderArgs(
                symbol=decision.symbol,
                side=Side(decision.action.value),
                quantity=decision.quantity,
                order_type=decision.order_type,
                price=decision.price,
                stop_loss=decision.stop_loss,
                take_profit=decision.take_profit,
            )
        except (ValidationError, ValueError) as exc:
            raise ToolError(f"the decision makes no valid place_order arguments: {exc}") from None

    async def _place(self, args: PlaceOrderArgs) -> ExecutionReport:
        try:
            return await self.tools.place.submit(args)
        except ToolArgumentError as exc:
            raise ToolError(f"place_order refused the decision's arguments: {exc}") from None

    async def acall(self, decision: Decision, observation: Observation) -> Execution:
        """Carry out ``decision``; return every verdict, ack and new fill.

        Raises:
            ToolError: If the order never reached the risk chain (its arguments were refused);
                the loop records that as a failed Execute stage.
        """
        await self.cursor.start()
        verdicts: list[RiskVerdict] = []
        acks: list[OrderAck] = []
        if self.confirmations is not None:  # a person's answers given since the last step
            for pending, answer, by in self.confirmations.take_decided():
                await self._carry_out(pending, answer, by, verdicts, acks)
        if self.cancel_stale:
            await self._cancel_stale(verdicts, acks)
        if decision.action is not _HOLD:
            arguments = self.order_arguments(decision)
            report = await self._place(arguments)
            self._keep(report, verdicts, acks)
            if report.status == "pending_confirmation":
                await self._confirm(report, arguments, verdicts, acks)
        fills = await self.cursor.read()
        return Execution(verdicts=tuple(verdicts), acks=tuple(acks), fills=fills)

    def __call__(self, decision: Decision, observation: Observation) -> Execution:
        """Blocking :meth:`acall`."""
        return run_blocking(self.acall(decision, observation))

    def __repr__(self) -> str:
        return (
            f"ToolExecutor(cancel_stale={self.cancel_stale}, confirmations={self.confirmations!r})"
        )
