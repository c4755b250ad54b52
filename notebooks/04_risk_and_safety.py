# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · Risk and safety: every defence line rejecting
#
# Every order an agent places goes through the trading tools, and every tool call through a
# fail-closed risk chain: **safety mode → limits → gates → backend**. Each line records a
# verdict; the first rejection stops the order. This notebook makes each line say no, on a
# `MockTradingBackend` (fills at a set price) with a simulated clock, so it is deterministic:
#
# 1. safety mode `dry_run`: approved and simulated, never sent;
# 2. safety mode `two_phase`: a large order needs a confirmation token, and the token is bound
#    to the exact order;
# 3. a static limit (`max_order_notional`);
# 4. a gate: the rejection circuit breaker trips after repeated rejections and cools down;
# 5. the kill switch halts all trading until released.
#
# The tools speak JSON (what an LLM sends and reads), so every answer below is the JSON the
# agent would see, shortened to its verdicts.

# %%
import json
from datetime import UTC, datetime, timedelta

from axon_lab.backends import MockTradingBackend
from axon_lab.clock import SimulatedClock
from axon_lab.risk import KillSwitch, RejectionCircuitBreaker, RiskLimits
from axon_lab.tools import make_trading_tools

PRICES = {"AAA": 20.0, "BBB": 4.0}


def setup(clock=None, **chain):
    """A fresh backend (1,000 cash) and its trading tools, on a simulated clock."""
    clock = clock or SimulatedClock(datetime(2024, 3, 1, 12, tzinfo=UTC))
    backend = MockTradingBackend(PRICES, cash=1_000.0, clock=clock)
    return clock, make_trading_tools(backend, clock=clock, id_prefix="nb04", **chain)


def place(tools, **order):
    """Call place_order as an LLM would and print the verdicts."""
    answer = json.loads(tools.execute("place_order", json.dumps(order)))
    verdicts = ", ".join(
        f"{v['line']}:{v['rule']} {'ok' if v['approved'] else 'NO'}" for v in answer["verdicts"]
    )
    print(f"{order['side']} {order['quantity']} {order['symbol']}: {answer['status']}")
    print(f"  verdicts: {verdicts}")
    if answer.get("error"):
        print(f"  error: {answer['error']['type']} / {answer['error'].get('rule')}")
    return answer


# %% [markdown]
# ## 1. Dry run: simulated, never sent
#
# The whole chain runs, but the backend never sees the order: cash and positions stay as they
# were.

# %%
# NBVAL_CHECK_OUTPUT
clock, tools = setup(mode="dry_run")
place(tools, symbol="AAA", side="buy", quantity=2)
portfolio = json.loads(tools.execute("query_portfolio", "{}"))
print("after the dry run:", {k: portfolio[k] for k in ("cash", "positions")})

# %% [markdown]
# ## 2. Two-phase: confirm large orders with a token
#
# Orders over 30 in notional are held until the agent repeats them with the confirmation token.
# The token is bound to the order: a different quantity is rejected.

# %%
# NBVAL_CHECK_OUTPUT
clock, tools = setup(mode="two_phase", confirm_above=30.0, confirm_ttl=timedelta(minutes=2))
first = place(tools, symbol="AAA", side="buy", quantity=2)
token = first["confirm_token"]
place(tools, symbol="AAA", side="buy", quantity=3, confirm_token=token)
second = place(tools, symbol="AAA", side="buy", quantity=2)
clock.advance(timedelta(minutes=1))
done = place(tools, symbol="AAA", side="buy", quantity=2, confirm_token=second["confirm_token"])

# %% [markdown]
# ## 3. A limit: the largest order notional
#
# `RiskLimits` are static rules checked on every order: notional, daily order count, position
# size and value, allowed and blocked symbols.

# %%
# NBVAL_CHECK_OUTPUT
clock, tools = setup(limits=RiskLimits(max_order_notional=100.0))
place(tools, symbol="AAA", side="buy", quantity=2)
too_large = place(tools, symbol="AAA", side="buy", quantity=10)

# %% [markdown]
# ## 4. A gate: the rejection circuit breaker
#
# Gates have state. The breaker counts rejections by the limits; after 2 within 10 minutes it
# trips, and then rejects *every* order (even a small one) until a 30-minute cooldown passes.

# %%
# NBVAL_CHECK_OUTPUT
breaker = RejectionCircuitBreaker(
    max_rejections=2, window=timedelta(minutes=10), cooldown=timedelta(minutes=30)
)
clock, tools = setup(limits=RiskLimits(max_order_notional=100.0), gates=[breaker])
for _ in range(2):
    place(tools, symbol="AAA", side="buy", quantity=10)
place(tools, symbol="BBB", side="buy", quantity=1)
clock.advance(timedelta(minutes=31))
after_cooldown = place(tools, symbol="BBB", side="buy", quantity=1)

# %% [markdown]
# ## 5. The kill switch
#
# A human (or a monitor) halts all trading; orders are rejected until the switch is released.

# %%
# NBVAL_CHECK_OUTPUT
clock = SimulatedClock(datetime(2024, 3, 1, 12, tzinfo=UTC))
kill = KillSwitch(clock=clock)
clock, tools = setup(clock, gates=[kill])
kill.engage("maintenance window")
place(tools, symbol="BBB", side="buy", quantity=1)
kill.release("maintenance done")
released = place(tools, symbol="BBB", side="buy", quantity=1)

# %% [markdown]
# The agent loop (`make_agent(..., mode=..., limits=..., gates=...)`) builds this same chain;
# every verdict is recorded with its step in the explain store (see notebook 07).
