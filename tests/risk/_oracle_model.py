"""The account model of the risk oracle (tests/risk/test_oracle.py), written from the rules.

It shares no code with the chain: see the oracle's module docstring for what it checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from axon_lab.risk import RiskLimits

START = datetime(2024, 3, 1, 20, tzinfo=UTC)
START_PRICES = {"AAA": 20.0, "BBB": 4.0}
SYMBOLS = tuple(START_PRICES)
REL = 1e-9  # float slack of the model's comparisons (relative)
ABS = 1e-6  # float slack of money and quantity comparisons (absolute)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=ABS)


def _at_most(a: float, b: float) -> bool:
    """``a <= b`` up to float noise."""
    return a <= b + REL * max(1.0, abs(b)) + 1e-12


# ---------------------------------------------------------------------------- the model


@dataclass
class ModelOrder:
    """One order as the model knows it (from the request it sent and the fills it saw)."""

    oid: str
    symbol: str
    side: str  # "buy" | "sell"
    kind: str  # "market" | "limit" | "stop"
    quantity: float
    limit: float | None = None
    stop: float | None = None
    filled: float = 0.0
    open: bool = True
    triggered: bool = False

    @property
    def remaining(self) -> float:
        return self.quantity - self.filled

    def value_price(self, mark: float) -> float:
        """The worst price this order can trade at given the mark (the written rule)."""
        if self.kind == "limit":
            assert self.limit is not None
            return self.limit if self.side == "buy" else max(self.limit, mark)
        if self.kind == "stop":
            assert self.stop is not None
            return max(self.stop, mark)
        return mark


@dataclass
class Prediction:
    quantity: float  # what fills now
    cancels: bool  # the rest is cancelled (the spot cap bit)
    ambiguous: bool  # the cap is within float noise of the wanted size: either outcome is fine


@dataclass
class AccountModel:
    """Cash, positions, marks and the resting book, kept from the events and the fills seen."""

    cash: float
    marks: dict[str, float]
    fee_rate: float
    max_fill: float | None
    limits: RiskLimits
    max_drawdown: float | None
    positions: dict[str, float] = field(default_factory=dict)
    orders: dict[str, ModelOrder] = field(default_factory=dict)  # creation order
    ambiguous: set[str] = field(default_factory=set)  # open-or-not decided by the backend
    n_fills: int = 0
    peak: float | None = None
    tripped: bool = False  # a definite drawdown trip was seen
    uncertain: bool = False  # a reading within float noise of the threshold was seen
    killed: bool = False
    sent_per_day: dict[date, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.positions = dict.fromkeys(self.marks, 0.0)

    # -- reads

    def open_orders(self, symbol: str | None = None, exclude: str | None = None):
        return [
            o
            for o in self.orders.values()
            if o.open and o.oid != exclude and (symbol is None or o.symbol == symbol)
        ]

    def equity(self) -> float:
        return self.cash + math.fsum(q * self.marks[s] for s, q in self.positions.items())

    def worst_case(self, symbol: str, exclude: str | None = None) -> tuple[float, float]:
        """(long side, short side): the position if every open buy / every open sell filled."""
        pos = self.positions[symbol]
        resting = self.open_orders(symbol, exclude)
        buys = math.fsum(o.remaining for o in resting if o.side == "buy")
        sells = math.fsum(o.remaining for o in resting if o.side == "sell")
        return pos + buys, pos - sells

    def reserved_cash(self, exclude: str | None = None) -> float:
        """What the open buys (all symbols) may cost, fees included, valued at today's marks."""
        return math.fsum(
            o.remaining * o.value_price(self.marks[o.symbol]) * (1 + self.fee_rate)
            for o in self.open_orders(exclude=exclude)
            if o.side == "buy"
        )

    # -- the drawdown breaker's view (readings at marks and at order checks)

    def reading(self) -> None:
        equity = self.equity()
        self.peak = equity if self.peak is None else max(self.peak, equity)
        if self.max_drawdown is None or self.tripped or self.peak <= 0:
            return
        drawdown = (self.peak - equity) / self.peak
        if drawdown >= self.max_drawdown + 1e-9:
            self.tripped = True
        elif drawdown >= self.max_drawdown - 1e-9:
            self.uncertain = True

    # -- acceptance rules

    def acceptance_problems(
        self, order: ModelOrder, *, new: bool, replaces: str | None, today: date
    ) -> list[str]:
        """Every written rule the order breaks if it is accepted now (empty: none)."""
        lim = self.limits
        sym, qty = order.symbol, order.quantity
        mark = self.marks[sym]
        vp = order.value_price(mark)
        problems: list[str] = []
        if lim.max_order_quantity is not None and not _at_most(qty, lim.max_order_quantity):
            problems.append(f"quantity {qty} > max_order_quantity {lim.max_order_quantity}")
        notional = qty * vp
        if lim.max_order_notional is not None and not _at_most(notional, lim.max_order_notional):
            problems.append(f"notional {notional} > max_order_notional {lim.max_order_notional}")
        pos = self.positions[sym]
        long, short = self.worst_case(sym, exclude=replaces)
        after = long + qty if order.side == "buy" else short - qty
        grows = abs(after) > abs(pos) * (1 + REL) + 1e-12
        if (
            grows
            and lim.max_position_abs is not None
            and not _at_most(abs(after), lim.max_position_abs)
        ):
            problems.append(
                f"worst-case position {after} > max_position_abs {lim.max_position_abs}"
            )
        if grows and lim.max_position_value is not None:
            value = abs(after) * max(vp, mark)
            if not _at_most(value, lim.max_position_value):
                problems.append(
                    f"worst-case position value {value} > max_position_value "
                    f"{lim.max_position_value}"
                )
        if new and lim.max_daily_orders is not None:
            sent = self.sent_per_day.get(today, 0)
            if sent + 1 > lim.max_daily_orders:
                problems.append(f"order {sent + 1} of the day > {lim.max_daily_orders}")
        # spot buying power
        if order.side == "buy":
            need = qty * vp * (1 + self.fee_rate)
            free = self.cash - self.reserved_cash(exclude=replaces)
            if not _at_most(need, free):
                problems.append(
                    f"buy needs {need} but cash {self.cash} less open buys' reserve leaves {free}"
                )
        else:
            free_pos = short  # position less what the open sells promise
            if not _at_most(qty, free_pos):
                problems.append(f"sell of {qty} > position less open sells {free_pos}")
        return problems

    # -- matching (what the backend must do, from its documented rules)

    def marketable(self, o: ModelOrder, price: float) -> bool:
        if o.kind == "market":
            return True
        if o.kind == "limit":
            assert o.limit is not None
            return price <= o.limit if o.side == "buy" else price >= o.limit
        assert o.stop is not None
        if not o.triggered and (price >= o.stop if o.side == "buy" else price <= o.stop):
            o.triggered = True
        return o.triggered

    def predict(self, o: ModelOrder) -> Prediction | None:
        """The fill one match of the open order ``o`` makes now (None: it does not match)."""
        price = self.marks[o.symbol]
        if not o.open or not self.marketable(o, price):
            return None
        wanted = o.remaining if self.max_fill is None else min(self.max_fill, o.remaining)
        if o.side == "buy":
            cap = max(self.cash, 0.0) / (price * (1 + self.fee_rate))
        else:
            cap = max(self.positions[o.symbol], 0.0)
        near = abs(cap - wanted) <= 1e-9 * max(wanted, 1e-12)
        if cap >= wanted:
            return Prediction(wanted, False, near)
        return Prediction(cap, True, near)

    def book(self, o: ModelOrder, fill) -> None:
        """Apply one fill the backend reported for ``o`` (after checking its terms)."""
        assert fill.order_id == o.oid, (fill, o)
        assert fill.symbol == o.symbol, (fill, o)
        assert fill.side.value == o.side, (fill, o)
        assert _close(fill.fee, fill.quantity * fill.price * self.fee_rate), fill
        assert _at_most(fill.quantity, o.remaining), f"fill {fill} > remaining of {o}"
        cost = fill.quantity * fill.price
        if o.side == "buy":
            self.cash -= cost + fill.fee
            self.positions[o.symbol] += fill.quantity
        else:
            self.cash += cost - fill.fee
            self.positions[o.symbol] -= fill.quantity
        o.filled += fill.quantity
        self.n_fills += 1
        if o.remaining <= 1e-9 * o.quantity:
            o.open = False

    def match(self, o: ModelOrder, fills: list) -> None:
        """Check the backend's fills of one match of ``o`` against the prediction; book them."""
        pred = self.predict(o)
        price = self.marks[o.symbol]
        if pred is None or (pred.quantity <= 0 and not pred.ambiguous):
            assert not fills, f"{o} should not fill at {price}, got {fills}"
        else:
            assert len(fills) <= 1, fills
            got = fills[0].quantity if fills else 0.0
            if pred.ambiguous:
                assert got <= pred.quantity * (1 + REL) + ABS, (pred, fills)
            else:
                assert _close(got, pred.quantity), f"{o} should fill {pred}, got {fills}"
            for f in fills:
                assert f.price == price, f"{o} filled at {f.price}, the last price is {price}"
        for f in fills:
            self.book(o, f)
        if pred is not None and pred.cancels and o.open:
            if pred.ambiguous:
                self.ambiguous.add(o.oid)
            else:
                o.open = False
        elif pred is not None and pred.ambiguous and o.open:
            self.ambiguous.add(o.oid)


# ---------------------------------------------------------------------------- strategies


# ---------------------------------------------------------------------------- many symbols
# The portfolio oracle (issue 22): the rules of axon_lab.risk.portfolio written again, one symbol
# and one measure at a time in plain Python (dicts and loops, no numpy, nothing imported from the
# check), from the module's written rules.


def portfolio_measures(
    limits: dict, weights: dict[str, float], cash_after: float, equity: float
) -> dict[str, tuple[float, float]]:
    """Every portfolio check that is on: name -> (observed, limit)."""
    out: dict[str, tuple[float, float]] = {}
    if limits.get("max_gross") is not None:
        out["gross_exposure"] = (sum(abs(w) for w in weights.values()), limits["max_gross"])
    if limits.get("max_net") is not None:
        out["net_exposure"] = (abs(sum(weights.values())), limits["max_net"])
    if limits.get("max_weight") is not None:
        largest = max([abs(w) for w in weights.values()], default=0.0)
        out["concentration"] = (largest, limits["max_weight"])
    groups = limits.get("groups") or {}
    cap = limits.get("max_group_weight")
    if groups and cap is not None:
        per: dict[str, float] = {}
        for sym, w in weights.items():
            if sym in groups:
                per[groups[sym]] = per.get(groups[sym], 0.0) + abs(w)
        for g, total in sorted(per.items()):  # groups in name order (the written rule)
            out[f"group_weight:{g}"] = (
                total,
                cap if not isinstance(cap, dict) else cap.get(g, math.inf),
            )
    if limits.get("spot", True):
        out["buying_power"] = (-cash_after / equity, -limits.get("cash_buffer", 0.0))
    return out


def _over(obs: float, lim: float) -> bool:
    return obs > lim + 1e-9 * max(1.0, abs(lim))


def portfolio_oracle(
    limits: dict,
    symbols: list[str],
    orders: list[float],
    positions: list[float],
    marks: list[float],
    tradable: list[bool],
    cash: float,
) -> dict[str, str]:
    """Which orders pass: symbol -> rule that rejects it ("" when it passes); orders of 0 absent."""
    mark = {
        s: (m if math.isfinite(m) and m > 0 else 0.0) for s, m in zip(symbols, marks, strict=False)
    }
    pos = dict(zip(symbols, positions, strict=False))
    order = {s: o for s, o in zip(symbols, orders, strict=False) if o != 0.0}
    equity = cash + sum(pos[s] * mark[s] for s in symbols)
    if not (math.isfinite(equity) and equity > 0):
        return dict.fromkeys(order, "equity")
    fee = limits.get("fee_rate", 0.0)
    verdict: dict[str, str] = {}
    grows: dict[str, bool] = {}
    for s in order:
        o = order[s]
        after = pos[s] + (o if math.isfinite(o) else 0.0)
        grows[s] = abs(after) > abs(pos[s]) * (1 + 1e-9) or (after * pos[s] < 0)
        raw_mark = marks[symbols.index(s)]
        if not (math.isfinite(o) and math.isfinite(raw_mark) and raw_mark > 0):
            verdict[s] = "invalid_order"
        elif not tradable[symbols.index(s)]:
            verdict[s] = "not_tradable"
        elif not limits.get("allow_short", False) and o < 0 and after < -1e-9 * max(1, abs(pos[s])):
            verdict[s] = "no_short"
        elif (
            limits.get("max_order_weight") is not None
            and abs(o) * mark[s] / equity > limits["max_order_weight"] + 1e-9
        ):
            verdict[s] = "order_weight"
        else:
            cap = (limits.get("symbol_max_weight") or {}).get(s, limits.get("max_weight"))
            cap = math.inf if cap is None else cap
            if grows[s] and abs(after) * mark[s] / equity > cap + 1e-9:
                verdict[s] = "symbol_weight"
            else:
                verdict[s] = ""

    def book(passing: set[str]) -> tuple[dict[str, float], float]:
        w, c = {}, cash
        for s in symbols:
            q = pos[s] + (order[s] if s in passing else 0.0)
            w[s] = q * mark[s] / equity
            if s in passing:
                c -= order[s] * mark[s] + fee * abs(order[s] * mark[s])
        return w, c

    passing = {s for s, r in verdict.items() if r == ""}
    measures = portfolio_measures(limits, *book(passing), equity)
    failed = [k for k, (obs, lim) in measures.items() if _over(obs, lim)]
    if failed and any(grows[s] for s in passing):
        rule = f"portfolio:{failed[0]}"
        reducing = {s for s in passing if not grows[s]}
        now = portfolio_measures(limits, *book(set()), equity)
        reduced = portfolio_measures(limits, *book(reducing), equity)
        worse = any(reduced[k][0] > now[k][0] + 1e-9 for k in failed)
        for s in passing:
            if grows[s] or worse:
                verdict[s] = rule
    return verdict
