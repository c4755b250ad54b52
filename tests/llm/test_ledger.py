from __future__ import annotations

import asyncio
import math
import threading

import pytest

from axon_lab.errors import BudgetExceededError, ConfigError
from axon_lab.llm import (
    CachedClient,
    CostLedger,
    LLMRequest,
    MemoryCacheStore,
    MeteredClient,
    Price,
    PriceTable,
    ScriptedClient,
    estimate_prompt_tokens,
    make_response,
)

PRICE_IN, PRICE_OUT = 3.0, 15.0  # per million tokens, set by the test, not shipped


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def paid_client(n: int, *, prompt: int = 1000, completion: int = 200) -> ScriptedClient:
    return ScriptedClient(
        [
            make_response("ok", model="paid", prompt_tokens=prompt, completion_tokens=completion)
            for _ in range(n)
        ],
        model="paid",
    )


def table() -> PriceTable:
    return PriceTable({"paid": (PRICE_IN, PRICE_OUT)})


def test_cost_per_call_and_per_run() -> None:
    ledger = CostLedger(table())
    client = MeteredClient(paid_client(3), ledger)
    responses = [client.complete(user(f"q{i}")) for i in range(3)]
    per_call = (1000 * PRICE_IN + 200 * PRICE_OUT) / 1e6
    assert [r.cost for r in responses] == pytest.approx([per_call] * 3)
    assert [c.cost for c in ledger.calls] == pytest.approx([per_call] * 3)
    assert ledger.total_cost == pytest.approx(3 * per_call)
    assert (ledger.tokens_in, ledger.tokens_out) == (3000, 600)
    assert ledger.by_model() == pytest.approx({"paid": 3 * per_call})


def test_local_and_prefixed_models() -> None:
    prices = PriceTable({"vendor-large": (2.0, 4.0)})
    assert prices.cost("smollm2-135m-instruct", tokens_in=10**6, tokens_out=10**6) == 0.0
    assert prices.cost("vendor-large-2031-01", tokens_in=10**6, tokens_out=0) == 2.0
    prices.set("vendor-large-2031-01", input_per_mtok=1.0, output_per_mtok=1.0)
    assert prices.cost("vendor-large-2031-01", tokens_in=10**6, tokens_out=0) == 1.0


def test_unknown_model_warns_once_and_counts_zero() -> None:
    prices = PriceTable()
    with pytest.warns(UserWarning, match="No price for model 'mystery'"):
        assert prices.cost("mystery", tokens_in=5, tokens_out=5) == 0.0
    assert prices.cost("mystery", tokens_in=5, tokens_out=5) == 0.0  # no second warning


def test_invalid_prices_and_budget() -> None:
    with pytest.raises(ConfigError, match="finite and >= 0"):
        Price(-1.0, 0.0)
    with pytest.raises(ConfigError, match="budget"):
        CostLedger(budget=math.nan)


def test_budget_stops_before_the_call_that_would_exceed_it() -> None:
    per_call = (1000 * PRICE_IN + 200 * PRICE_OUT) / 1e6
    ledger = CostLedger(table(), budget=2.5 * per_call)
    inner = paid_client(5)
    client = MeteredClient(inner, ledger)
    # An estimate of ~1000 prompt tokens + max_tokens=200 is close to a real call's cost.
    big = user("x" * 3900)
    assert estimate_prompt_tokens(LLMRequest.build(big)) >= 975
    client.complete(big, max_tokens=200)
    client.complete(big, max_tokens=200)
    with pytest.raises(BudgetExceededError, match=r"could cost up to .* of its budget"):
        client.complete(big, max_tokens=200)
    assert len(inner.requests) == 2  # the refused call never reached the client
    assert ledger.total_cost <= ledger.budget  # type: ignore[operator]


def test_budget_uses_default_max_tokens_when_unset() -> None:
    ledger = CostLedger(table(), budget=1.0, default_max_tokens=1000)
    estimate = ledger.estimate("paid", LLMRequest.build(user("hi")))
    prompt = estimate_prompt_tokens(LLMRequest.build(user("hi")))
    assert estimate == pytest.approx((prompt * PRICE_IN + 1000 * PRICE_OUT) / 1e6)


def test_concurrent_calls_cannot_overrun_the_budget() -> None:
    per_call_estimate = CostLedger(table()).estimate(
        "paid", LLMRequest.build(user("q"), max_tokens=200)
    )
    ledger = CostLedger(table(), budget=4.5 * per_call_estimate)
    gate = threading.Event()

    def slow(req: LLMRequest) -> str:
        gate.wait(2)
        return "ok"

    client = MeteredClient(ScriptedClient(slow, model="paid"), ledger)
    reqs = [LLMRequest.build(user("q"), max_tokens=200) for _ in range(8)]
    timer = threading.Timer(0.3, gate.set)
    timer.start()
    out = client.complete_many(reqs, max_concurrency=8, return_exceptions=True)
    timer.join()
    refused = [r for r in out if isinstance(r, BudgetExceededError)]
    assert len(refused) == 4  # four estimates fit in the budget while all are in flight


def test_cache_hits_are_free_and_skip_the_budget() -> None:
    store = MemoryCacheStore()
    ledger = CostLedger(table(), budget=1.0)
    recorder = CachedClient(MeteredClient(paid_client(1), ledger), mode="record", store=store)
    recorder.complete(user("q"), max_tokens=200)
    spent = ledger.total_cost
    broke = CostLedger(table(), budget=0.0)
    replay = CachedClient(MeteredClient(paid_client(0), broke), mode="replay", store=store)
    hit = replay.complete(user("q"), max_tokens=200)
    assert hit.cache_hit
    assert hit.cost == 0.0
    assert broke.total_cost == 0.0
    assert ledger.total_cost == spent


def test_metered_async_records() -> None:
    ledger = CostLedger(table())
    client = MeteredClient(paid_client(1), ledger)
    asyncio.run(client.acomplete(user("q")))
    assert len(ledger.calls) == 1
    assert ledger.calls[0].cost > 0
