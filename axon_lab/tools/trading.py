"""The trading tools: place, query, cancel and replace orders through the risk chain.

Every order-changing tool goes through a :class:`~axon_lab.risk.RiskChain` (SafetyMode ->
RiskLimits -> RiskGates -> backend); the JSON answer carries the status, every verdict (the
rejecting one included), the ack and the fills, and :attr:`BaseTool.last_result` keeps the typed
:class:`~axon_lab.risk.ExecutionReport`.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from axon_lab.errors import RecordError
from axon_lab.records import OrderRequest, PortfolioSnapshot, Position, Record, RiskVerdict
from axon_lab.risk.chain import RiskChain
from axon_lab.risk.report import ExecutionReport

from .base import BaseTool, check_symbol
from .result import ToolArgumentError, ToolResult
from .trading_args import CancelOrderArgs, PlaceOrderArgs, QueryPortfolioArgs, ReplaceOrderArgs

__all__ = [
    "CancelOrderTool",
    "PlaceOrderTool",
    "QueryPortfolioTool",
    "ReplaceOrderTool",
    "report_payload",
]


_NOT_ORDER_FIELDS = frozenset({"confirm_token", "client_order_id"})


def _verdict_payload(v: RiskVerdict) -> dict[str, Any]:
    out: dict[str, Any] = {"line": v.line.value, "rule": v.rule, "approved": v.approved}
    for key in ("limit", "observed", "gate_state"):
        value = getattr(v, key)
        if value is not None:
            out[key] = value
    if v.message:
        out["message"] = v.message
    return out


def _compact(record: Record) -> dict[str, Any]:
    return record.model_dump(mode="json", exclude_none=True)


def _position_payload(p: Position) -> dict[str, Any]:
    symbol, quantity, avg, mark = p.symbol, p.quantity, p.avg_price, p.mark_price
    if (
        type(p) is Position
        and type(symbol) is str
        and type(quantity) is float
        and type(avg) is float
        and type(mark) is float
        and math.isfinite(quantity)
        and math.isfinite(avg)
        and math.isfinite(mark)
    ):
        # p.to_dict() (model_dump(mode="json")) of a plain position: its four fields as they are
        out: dict[str, Any] = {
            "symbol": symbol,
            "quantity": quantity,
            "avg_price": avg,
            "mark_price": mark,
        }
    else:
        out = p.to_dict()
    out["market_value"] = p.market_value
    out["unrealized_pnl"] = p.unrealized_pnl
    return out


def report_payload(report: ExecutionReport) -> dict[str, Any]:
    """The JSON object an LLM reads for an :class:`~axon_lab.risk.ExecutionReport`."""
    payload: dict[str, Any] = {"ok": report.ok, "status": report.status}
    if report.dry_run:
        payload["dry_run"] = True
    if report.order is not None:
        key = "would_send" if report.dry_run else "order"
        payload[key] = _compact(report.order)
    if report.order_id is not None:
        payload["order_id"] = report.order_id
    if report.ack is not None:
        payload["ack"] = _compact(report.ack)
    if report.fills:
        payload["fills"] = [_compact(f) for f in report.fills]
    if report.verdicts:
        payload["verdicts"] = [_verdict_payload(v) for v in report.verdicts]
    if report.confirm_token is not None:
        payload["confirm_token"] = report.confirm_token
    if not report.ok:
        rejection = report.rejection
        if report.confirm_token is not None:
            kind = "confirmation_required"
        elif report.status in ("error", "invalid"):
            kind = "execution_failed" if report.status == "error" else "invalid_arguments"
        else:
            kind = "risk_rejected"
        error: dict[str, Any] = {"type": kind}
        if rejection is not None:
            error.update(_verdict_payload(rejection))
            del error["approved"]
        error["message"] = report.message
        payload["error"] = error
    else:
        payload["message"] = report.message
    return payload


def _result(tool: str, report: ExecutionReport) -> ToolResult:
    return ToolResult(tool=tool, ok=report.ok, payload=report_payload(report), report=report)


class PlaceOrderTool(BaseTool[PlaceOrderArgs]):
    """Place an order through the risk chain.

    Args:
        chain: The risk chain in front of the backend.
        id_prefix: Prefix of generated client order ids (use a run id for reproducible ids).
    """

    name = "place_order"
    description = (
        "Place a buy or sell order. Every order passes the safety mode, the risk limits and the "
        "risk gates before it reaches the market; the result lists each check's verdict. If the "
        "status is 'pending_confirmation', resend the same order with the returned confirm_token."
    )
    args_model = PlaceOrderArgs

    def __init__(self, chain: RiskChain, *, id_prefix: str) -> None:
        super().__init__()
        self.chain = chain
        self.id_prefix = id_prefix
        self._ids = itertools.count(1)

    def _validate(self, args: PlaceOrderArgs) -> None:
        check_symbol(args.symbol, self.chain.backend.symbols)

    def build_order(self, args: PlaceOrderArgs) -> OrderRequest:
        """The :class:`~axon_lab.records.OrderRequest` for validated arguments.

        Raises:
            ToolArgumentError: If the terms are inconsistent (e.g. a stop loss above a buy price).
        """
        # args.model_dump(exclude=...) of the flat, validated arguments, without the serializer
        fields = {k: v for k, v in args.__dict__.items() if k not in _NOT_ORDER_FIELDS}
        client_id = args.client_order_id or f"{self.id_prefix}-{next(self._ids)}"
        try:
            return OrderRequest(client_order_id=client_id, **fields)
        except RecordError as exc:
            raise ToolArgumentError(
                f"Invalid order: {exc} Fix the arguments and call again."
            ) from None

    async def submit(self, args: PlaceOrderArgs) -> ExecutionReport:
        """Check ``args`` and send the order through the chain; return the chain's report.

        The typed twin of the JSON call, for code (the Execute stage): the same checks, the
        same order, the same report, without a JSON round trip.

        Raises:
            ToolArgumentError: If the symbol is unknown or the terms are inconsistent.
        """
        self._validate(args)
        return await self._send(args)

    async def _send(self, args: PlaceOrderArgs) -> ExecutionReport:
        order = self.build_order(args)
        return await self.chain.place_order(order, confirm_token=args.confirm_token)

    async def _arun(self, args: PlaceOrderArgs) -> ToolResult:  # (acall has validated args)
        try:
            report = await self._send(args)
        except ToolArgumentError as exc:
            return ToolResult.failure(self.name, exc.kind, str(exc))
        return _result(self.name, report)


class ReplaceOrderTool(BaseTool[ReplaceOrderArgs]):
    """Change the quantity and/or price of a resting order, through the risk chain."""

    name = "replace_order"
    description = (
        "Replace a resting order's quantity and/or limit price. The new terms pass the same "
        "checks as a new order; the result has the replacement order's ack."
    )
    args_model = ReplaceOrderArgs

    def __init__(self, chain: RiskChain) -> None:
        super().__init__()
        self.chain = chain

    async def _arun(self, args: ReplaceOrderArgs) -> ToolResult:
        report = await self.chain.replace_order(
            args.order_id,
            quantity=args.quantity,
            price=args.price,
            confirm_token=args.confirm_token,
        )
        return _result(self.name, report)


class CancelOrderTool(BaseTool[CancelOrderArgs]):
    """Cancel a resting order (always allowed; not sent in dry run)."""

    name = "cancel_order"
    description = "Cancel a resting order by its order_id or client_order_id."
    args_model = CancelOrderArgs

    def __init__(self, chain: RiskChain) -> None:
        super().__init__()
        self.chain = chain

    async def _arun(self, args: CancelOrderArgs) -> ToolResult:
        return _result(self.name, await self.chain.cancel_order(args.order_id))


class QueryPortfolioTool(BaseTool[QueryPortfolioArgs]):
    """Report cash, positions, equity and (optionally) resting orders."""

    name = "query_portfolio"
    description = (
        "Get the current cash, positions (quantity, average price, mark price, unrealized PnL), "
        "equity, realized PnL and resting orders."
    )
    args_model = QueryPortfolioArgs

    def __init__(self, chain: RiskChain) -> None:
        super().__init__()
        self.chain = chain

    async def _arun(self, args: QueryPortfolioArgs) -> ToolResult:
        backend = self.chain.backend
        snap = await backend.query_portfolio()
        payload = _portfolio_payload(snap)
        if args.include_open_orders:
            payload["open_orders"] = [_compact(a) for a in await backend.open_orders()]
        # the JSON for an LLM, and the typed snapshot it is made from for the Observe stage
        return ToolResult(tool=self.name, ok=True, payload=payload, value=snap)


def _portfolio_payload(snap: PortfolioSnapshot) -> dict[str, Any]:
    return {
        "ok": True,
        "timestamp": snap.timestamp.isoformat(),
        "cash": snap.cash,
        "equity": snap.equity,
        "realized_pnl": snap.realized_pnl,
        "fees_paid": snap.fees_paid,
        "positions": [_position_payload(p) for p in snap.positions.values()],
    }
