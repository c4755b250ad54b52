"""Account rules shared by the risk lines and the backends: instruments and buying power.

An :class:`Instrument` says what a venue accepts for one symbol (price and quantity steps,
minimum size and notional, fees). A :class:`MarginPolicy` says what an account may borrow:
spot by default (a buy needs the cash, a sell needs the position), margin and shorting only
when configured. The risk chain and every backend apply the same :meth:`MarginPolicy.check`, so
they agree on what an empty wallet refuses.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Self

from pydantic import Field, model_validator

from axon_lab.records._base import Finite, NonNegativeFinite, PositiveFinite, Record, Symbol
from axon_lab.records._enums import OrderType, Side
from axon_lab.records._orders import OrderRequest

# Quantities and prices are floats; a value counts as on a step grid when it is within this
# relative distance of a multiple of the step (a float product such as 3 * 0.1 is not exact).
_GRID_TOLERANCE = 1e-9
# Cash and quantity comparisons allow for float rounding in sums of fills and reservations.
_MONEY_TOLERANCE = 1e-9


@functools.lru_cache(maxsize=256)  # a handful of steps per run, asked on every order
def _decimals(step: float) -> int:
    """How many decimals a step has (0.01 -> 2, 5.0 -> 0), for rounding off float noise."""
    exponent = Decimal(repr(step)).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def _on_grid(value: float, step: float) -> bool:
    units = value / step
    return abs(units - round(units)) <= _GRID_TOLERANCE * max(1.0, abs(units))


class Instrument(Record):
    """What a venue accepts for one symbol.

    Attributes:
        symbol: The symbol.
        tick_size: Prices are multiples of this (None: any price).
        lot_size: Quantities are multiples of this (None: any quantity).
        min_quantity: The smallest quantity an order may have.
        min_notional: The smallest quantity x price an order may have.
        maker_fee: Fee rate of a resting order's fill (negative: a rebate).
        taker_fee: Fee rate of a marketable order's fill.
        source: Where these figures come from (a venue's rule book, a bundled default, inferred
            from data), so a report can say how much to trust them.

    Examples:
        >>> btc = Instrument(symbol="BTC-USD", tick_size=0.01, lot_size=1e-05, min_notional=5.0)
        >>> btc.round_quantity(0.123456789)
        0.12345
        >>> btc.round_price(42000.123, side="buy"), btc.round_price(42000.123, side="sell")
        (42000.12, 42000.13)
        >>> btc.size_problem(3.7e-05, 42000.0)
        'quantity 3.7e-05 is not a multiple of the lot size 1e-05'
        >>> btc.size_problem(0.0001, 42000.0)
        'notional 4.2 is below the minimum notional 5'
    """

    symbol: Symbol
    tick_size: PositiveFinite | None = None
    lot_size: PositiveFinite | None = None
    min_quantity: NonNegativeFinite = 0.0
    min_notional: NonNegativeFinite = 0.0
    maker_fee: Finite = Field(default=0.0, gt=-1, lt=1)
    taker_fee: NonNegativeFinite = Field(default=0.0, lt=1)
    source: str = ""

    @property
    def fee_rate(self) -> float:
        """The fee rate the risk lines reserve for: the higher of maker and taker."""
        return max(self.maker_fee, self.taker_fee)

    def round_quantity(self, quantity: float) -> float:
        """``quantity`` rounded down to the lot size (never up: the risk was sized for it)."""
        lot = self.lot_size
        if lot is None:
            return quantity
        units = math.floor(quantity / lot + _GRID_TOLERANCE)
        return round(units * lot, _decimals(lot))

    def round_price(self, price: float, *, side: Side | str) -> float:
        """``price`` on the tick grid, rounded to the passive side.

        A buy's price is rounded down and a sell's up, so rounding never makes a limit order
        pay more or sell for less than asked.
        """
        tick = self.tick_size
        if tick is None:
            return price
        units = price / tick
        if Side(side) is Side.BUY:
            whole = math.floor(units + _GRID_TOLERANCE)
        else:
            whole = math.ceil(units - _GRID_TOLERANCE)
        return round(max(whole, 1) * tick, _decimals(tick))

    def size_problem(self, quantity: float, price: float) -> str:
        """Why ``quantity`` at ``price`` is too small or off the lot grid; ``""`` when it is not."""
        lot = self.lot_size
        if lot is not None and not _on_grid(quantity, lot):
            return f"quantity {quantity:.10g} is not a multiple of the lot size {lot:g}"
        if quantity < self.min_quantity * (1 - _GRID_TOLERANCE):
            return f"quantity {quantity:.10g} is below the minimum quantity {self.min_quantity:g}"
        notional = quantity * price
        if notional < self.min_notional * (1 - _GRID_TOLERANCE):
            return f"notional {notional:.6g} is below the minimum notional {self.min_notional:g}"
        return ""

    def request_problem(self, order: OrderRequest, mark: float) -> str:
        """Why a venue would refuse ``order``; ``""`` when it would not.

        The size is judged at the limit price of a limit order, else at ``mark``; every price
        the order names must sit on the tick grid.
        """
        limit = order.price if order.order_type is OrderType.LIMIT else None
        problem = self.size_problem(order.quantity, mark if limit is None else limit)
        if problem or self.tick_size is None:
            return problem
        for name in ("price", "stop_price", "stop_loss", "take_profit"):
            value = getattr(order, name)
            if value is not None and not _on_grid(value, self.tick_size):
                return f"{name} {value:.10g} is not a multiple of the tick size {self.tick_size:g}"
        return ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountState:
    """The figures a buying-power check needs about one symbol, with what rests on the book.

    Attributes:
        cash: Cash now.
        equity: Cash plus positions at their marks.
        position: The signed position in the order's symbol.
        resting_buy_quantity: Open buy quantity on the symbol (not yet filled).
        resting_sell_quantity: Open sell quantity on the symbol.
        reserved_cash: Cash set aside for every open buy (all symbols): quantity x the price it
            is valued at x (1 + fee rate).
        gross_other: Gross exposure of every other symbol at its mark.
    """

    cash: float
    equity: float
    position: float
    resting_buy_quantity: float = 0.0
    resting_sell_quantity: float = 0.0
    reserved_cash: float = 0.0
    gross_other: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class BuyingPowerCheck:
    """The outcome of :meth:`MarginPolicy.check`: the rule, the limit, what was asked, why."""

    ok: bool
    rule: str
    limit: float
    observed: float
    message: str


class MarginPolicy(Record):
    """What an account may borrow.

    The default is spot: a buy needs available cash (cash less what open buys and their fees
    reserve), a sell needs the position (less what open sells already promise), and cash never
    goes below zero. ``leverage`` above 1 or ``allow_short`` turn on margin: the gross exposure
    after the worst-case fill of every open order on the symbol must stay within ``leverage`` x
    equity.

    Attributes:
        leverage: Gross exposure allowed as a multiple of equity (1: no borrowing).
        allow_short: Whether sells may open or grow a short position.
        borrow_rate: Yearly interest on borrowed cash and on the value of short positions,
            charged by backends that model time (a fraction, e.g. 0.05).

    Examples:
        >>> spot = MarginPolicy()
        >>> state = AccountState(cash=10_000.0, equity=10_000.0, position=0.0)
        >>> check = spot.check(Side.BUY, 1e6, 10.0, fee_rate=0.0, state=state)
        >>> check.ok, check.rule, check.limit, check.observed
        (False, 'buying_power', 10000.0, 10000000.0)
        >>> spot.check(Side.SELL, 5e6, 10.0, fee_rate=0.0, state=state).rule
        'no_short'
    """

    leverage: float = Field(default=1.0, ge=1, allow_inf_nan=False)
    allow_short: bool = False
    borrow_rate: NonNegativeFinite = 0.0

    @model_validator(mode="after")
    def _check_rate(self) -> Self:
        if self.borrow_rate > 0 and self.is_spot:
            raise ValueError(
                f"borrow_rate={self.borrow_rate} needs leverage > 1 or allow_short=True: a spot "
                "account never borrows"
            )
        return self

    @property
    def is_spot(self) -> bool:
        """Whether nothing may be borrowed (leverage 1, no shorts)."""
        return self.leverage == 1.0 and not self.allow_short

    def check(
        self,
        side: Side,
        quantity: float,
        price: float,
        *,
        fee_rate: float,
        state: AccountState,
    ) -> BuyingPowerCheck:
        """Whether the account can carry an order of ``quantity`` valued at ``price``.

        Args:
            side: The order's side.
            quantity: The order's quantity.
            price: The price the order is valued at (``OrderRequest.value_price``).
            fee_rate: The fee rate to reserve for.
            state: Cash, equity, the position and what rests on the book.
        """
        buying = side is Side.BUY
        if not buying and not self.allow_short:
            free = state.position - state.resting_sell_quantity
            if quantity > free + _MONEY_TOLERANCE * max(1.0, abs(free)):
                return BuyingPowerCheck(
                    ok=False,
                    rule="no_short",
                    limit=max(free, 0.0),
                    observed=quantity,
                    message=(
                        f"sell of {quantity:.10g} exceeds the {max(free, 0.0):.10g} held and not "
                        "already offered by open sells; shorting needs "
                        "MarginPolicy(allow_short=True)"
                    ),
                )
        if self.is_spot:
            if not buying:
                return BuyingPowerCheck(
                    ok=True,
                    rule="no_short",
                    limit=state.position - state.resting_sell_quantity,
                    observed=quantity,
                    message="",
                )
            need = quantity * price * (1 + fee_rate)
            available = state.cash - state.reserved_cash
            ok = need <= available + _MONEY_TOLERANCE * max(1.0, abs(available))
            return BuyingPowerCheck(
                ok=ok,
                rule="buying_power",
                limit=available,
                observed=need,
                message=""
                if ok
                else (
                    f"buy costs {need:.6g} with fees but only {available:.6g} cash is available "
                    f"(cash {state.cash:.6g} less {state.reserved_cash:.6g} reserved by open buys)"
                ),
            )
        if buying:
            worst = state.position + state.resting_buy_quantity + quantity
        else:
            worst = state.position - state.resting_sell_quantity - quantity
        gross = state.gross_other + abs(worst) * price
        allowed = self.leverage * max(state.equity, 0.0)
        reduces = abs(worst) <= abs(state.position)
        ok = reduces or gross <= allowed + _MONEY_TOLERANCE * max(1.0, allowed)
        return BuyingPowerCheck(
            ok=ok,
            rule="margin",
            limit=allowed,
            observed=gross,
            message=""
            if ok
            else (
                f"gross exposure {gross:.6g} after the worst-case fill exceeds leverage "
                f"{self.leverage:g} x equity {state.equity:.6g} = {allowed:.6g}"
            ),
        )
