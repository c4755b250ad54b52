"""Comparing an exchange's balances, open orders and fills with the backend and the store.

:func:`compare` is pure: figures in, :class:`~axon_lab.records.Discrepancy` records out. The
backend gathers the figures (:meth:`ExchangeTradingBackend.reconcile`) and, when anything
disagrees, warns with a :class:`ReconciliationWarning` as well as returning the report: a
disagreement is shown, never smoothed over.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from axon_lab.records import Discrepancy, Fill

__all__ = ["ReconciliationWarning", "compare"]


class ReconciliationWarning(UserWarning):
    """The exchange and the local view (backend or explain store) disagree."""


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9 * max(1.0, abs(a), abs(b)))


def compare(
    *,
    quote: str,
    cash: float,
    venue_cash: float,
    positions: Mapping[str, float],
    venue_positions: Mapping[str, float],
    unknown_orders: Iterable[tuple[str, str]],
    fills: Iterable[Fill],
    expected_fills: Iterable[Fill] | None,
) -> tuple[Discrepancy, ...]:
    """Every disagreement between the venue's figures and the local ones.

    Args:
        quote: The cash asset's name (for messages).
        cash: The backend's cash (its ledger, from the fills it saw).
        venue_cash: The venue's total balance of the cash asset.
        positions: The backend's positions by symbol.
        venue_positions: The venue's base-asset balances by symbol.
        unknown_orders: ``(symbol, order id)`` of open orders on the venue the backend did not
            place (adopted so they can be cancelled).
        fills: The fills the backend holds.
        expected_fills: The fills the explain store holds (None: not compared).
    """
    found: list[Discrepancy] = []
    if not _close(cash, venue_cash):
        found.append(
            Discrepancy(
                kind="cash",
                expected=cash,
                observed=venue_cash,
                message=f"{quote} balance is {venue_cash:.10g} on the exchange but "
                f"{cash:.10g} from the fills the backend saw (difference "
                f"{venue_cash - cash:+.6g}): a fill, fee or transfer it did not see",
            )
        )
    for symbol in sorted(set(positions) | set(venue_positions)):
        mine, theirs = positions.get(symbol, 0.0), venue_positions.get(symbol, 0.0)
        if not _close(mine, theirs):
            found.append(
                Discrepancy(
                    kind="position",
                    symbol=symbol,
                    expected=mine,
                    observed=theirs,
                    message=f"{symbol}: the exchange holds {theirs:.10g}, the backend's fills "
                    f"give {mine:.10g}",
                )
            )
    for symbol, order_id in unknown_orders:
        found.append(
            Discrepancy(
                kind="unknown_order",
                symbol=symbol,
                ref=order_id,
                message=f"open order {order_id} on {symbol} was not placed by this backend; it is "
                "tracked now (open_orders shows it, cancel_order can cancel it)",
            )
        )
    if expected_fills is not None:
        have = {f.fill_id: f for f in fills}
        want = {f.fill_id: f for f in expected_fills}
        for fid in sorted(set(have) - set(want)):
            f = have[fid]
            found.append(
                Discrepancy(
                    kind="unrecorded_fill",
                    symbol=f.symbol,
                    ref=fid,
                    observed=f.quantity,
                    message=f"fill {fid} ({f.side.value} {f.quantity:.10g} {f.symbol} at "
                    f"{f.price:.10g}, order {f.order_id}) is on the exchange but not in the store",
                )
            )
        for fid in sorted(set(want) - set(have)):
            f = want[fid]
            found.append(
                Discrepancy(
                    kind="missing_fill",
                    symbol=f.symbol,
                    ref=fid,
                    expected=f.quantity,
                    message=f"fill {fid} ({f.side.value} {f.quantity:.10g} {f.symbol}) is in the "
                    "store but the exchange does not report it",
                )
            )
    return tuple(found)
