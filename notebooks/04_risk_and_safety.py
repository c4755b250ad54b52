# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · Risk and safety: every defence line rejecting
#
# Every order an agent places goes through the trading tools, and every tool call through a
# fail-closed risk chain: **safety mode → limits → gates → buying power → backend**. Each line
# records a verdict; the first rejection stops the order. Every line judges the worst case: an
# order is valued at the worst price it can trade at, and a position counts every open order on
# its side as filled. This notebook makes each line say no, on a `MockTradingBackend` (fills at
# a set price) with a simulated clock, so it is deterministic:
#
# 1. safety mode `dry_run`: approved and simulated, never sent;
# 2. safety mode `two_phase`: a large order needs a confirmation token, and the token is bound
#    to the exact order;
# 3. a static limit (`max_order_notional`);
# 4. a gate: the rejection circuit breaker trips after repeated rejections and cools down;
# 5. the kill switch halts all trading until released;
# 6. the worst case: resting orders count toward the position limit, and a sell limit far below
#    the market is valued at the market;
# 7. buying power: a spot account cannot buy beyond its cash or sell what it does not hold;
# 8. a drawdown breaker that trips between orders, because the loop marks every bar;
# 9. two-phase confirmation in a run, answered by a stated policy.
#
# The tools speak JSON (what an LLM sends and reads), so every answer below is the JSON the
# agent would see, shortened to its verdicts.

# %%
import json
from datetime import UTC, datetime, timedelta

from axon_lab.backends import MockTradingBackend, run_sync
from axon_lab.clock import SimulatedClock
from axon_lab.data import make_synthetic
from axon_lab.oader import make_agent
from axon_lab.risk import (
    AutoConfirmBelow,
    GateState,
    KillSwitch,
    PnLCircuitBreaker,
    RejectionCircuitBreaker,
    RiskLimits,
)
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
# ## 6. The worst case: resting orders and far limits
#
# With at most 4 units allowed, three resting limit buys of 3 would end at 9 once the price came
# down. The limit counts what rests: the second buy is refused, and its verdict names the
# resting order it counted. And a sell limit at 0.01 fills at the market, so it is valued there:
# 40 units at 20 is 800 of notional, over a 500 limit (valued at its limit price it would have
# looked like 0.40).

# %%
# NBVAL_CHECK_OUTPUT
clock, tools = setup(limits=RiskLimits(max_position_abs=4.0))
place(tools, symbol="AAA", side="buy", quantity=3, order_type="limit", price=15)
second = place(tools, symbol="AAA", side="buy", quantity=3, order_type="limit", price=15)
print("  why:", second["error"]["message"])
clock, tools = setup(limits=RiskLimits(max_order_notional=500.0))
for _ in range(2):
    place(tools, symbol="AAA", side="buy", quantity=20)  # 400 each: hold 40
far = place(tools, symbol="AAA", side="sell", quantity=40, order_type="limit", price=0.01)
print("  valued at:", far["error"]["observed"])

# %% [markdown]
# ## 7. Buying power: an empty wallet says no
#
# The account is spot unless a `MarginPolicy` says otherwise: a buy must fit the cash that open
# buys have not reserved, and a sell must fit the position.

# %%
# NBVAL_CHECK_OUTPUT
clock, tools = setup()
place(tools, symbol="AAA", side="buy", quantity=1_000_000)
_ = place(tools, symbol="AAA", side="sell", quantity=5)

# %% [markdown]
# ## 8. A drawdown between orders trips the breaker
#
# Equity goes from 1,000 to 2,600 and back to 1,300 with no order in between. The loop calls
# `chain.mark()` every step before Decide (here by hand), so the breaker sees the drawdown when
# it happens, not when the next order arrives.

# %%
# NBVAL_CHECK_OUTPUT
clock, tools = setup(gates=[PnLCircuitBreaker(max_drawdown=0.2, trip_to=GateState.HALTED)])
place(tools, symbol="BBB", side="buy", quantity=200)  # all 1,000 of cash at 4
for price in (4.0, 12.0, 5.5):
    tools.backend.set_price("BBB", price)
    marked = run_sync(tools.chain.mark())
    states = {name: state.value for name, state in marked.gate_states.items()}
    print(f"BBB at {price}: equity {marked.portfolio.equity:,.0f}, gates {states}")
print("trip:", tools.chain.drain_transitions()[-1].cause)
_ = place(tools, symbol="AAA", side="buy", quantity=1)

# %% [markdown]
# ## 9. Two-phase confirmation in a run
#
# In a run, someone has to answer each pending order. A backtest must say who: here a policy
# confirms orders up to 50,000 of notional (`AskCallable(fn)` asks a function; `WaitForPerson()`
# shows Confirm and Deny buttons in the loop stepper). Every answer is a recorded verdict.

# %%
# NBVAL_CHECK_OUTPUT
loop = make_agent(
    make_synthetic(300, timeframe="1h", start="2024-01-01", seed=7, symbol="SYN"),
    store="sqlite://",
    run_id="nb04-two-phase",
    progress=False,
    mode="two_phase",
    confirm=AutoConfirmBelow(50_000.0),
)
loop.run(200)
answers = [
    (s.step, v.rule, v.message)
    for s in loop.store.steps(loop.run_id)
    for v in s.verdicts
    if v.rule in ("confirmation_given", "confirmation_denied")
]
print(f"{len(answers)} answers; the first: {answers[0]}")
print("fills:", len(loop.store.fills(loop.run_id)))
loop.close()

# %% [markdown]
# The agent loop (`make_agent(..., mode=..., limits=..., gates=...)`) builds this same chain;
# every verdict is recorded with its step in the explain store (see notebook 07).
