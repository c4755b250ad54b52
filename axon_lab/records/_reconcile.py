"""What a reconciliation of a venue against the local view found."""

from __future__ import annotations

from axon_lab.records._base import Finite, NonNegativeInt, Record, UTCDatetime


class Discrepancy(Record):
    """One disagreement between a venue and what the backend or the explain store holds.

    Attributes:
        kind: What disagrees: ``cash``, ``position``, ``open_order`` (open here, not there),
            ``unknown_order`` (open there, unknown here), ``unrecorded_fill`` (a fill the venue
            reports and the store lacks) or ``missing_fill`` (in the store, unknown to the venue).
        symbol: The symbol concerned ("" for cash).
        ref: The order or fill id concerned ("" when none).
        expected: The local figure (None when not a number).
        observed: The venue's figure (None when not a number).
        message: What was found, in words.
    """

    kind: str
    symbol: str = ""
    ref: str = ""
    expected: Finite | None = None
    observed: Finite | None = None
    message: str


class ReconciliationReport(Record):
    """The result of comparing a venue's orders, fills and balances with the local view.

    Attributes:
        timestamp: When the comparison ran (the backend's clock).
        venue: Which venue (e.g. ``"binance"``).
        open_orders: Open orders the venue reported.
        fills: Fills the backend holds after the comparison.
        discrepancies: Every disagreement found; empty when everything agrees.
    """

    timestamp: UTCDatetime
    venue: str
    open_orders: NonNegativeInt = 0
    fills: NonNegativeInt = 0
    discrepancies: tuple[Discrepancy, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the venue and the local view agree."""
        return not self.discrepancies
