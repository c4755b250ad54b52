"""The LLM portfolio analyst with a ScriptedClient: the table, the token budget, per-symbol mode."""

from __future__ import annotations

import json

import pytest

from axon_lab.data import make_synthetic_universe
from axon_lab.errors import ConfigError, LLMError
from axon_lab.explain import read_blobs
from axon_lab.llm import LLMRequest, ScriptedClient, estimate_prompt_tokens
from axon_lab.portfolio import LLMPortfolioAnalyst, RankingAnalyst, make_portfolio_agent
from axon_lab.records import PortfolioObservation


def _observation(n_symbols: int, rows: int = 70) -> PortfolioObservation:
    loop = make_portfolio_agent(make_synthetic_universe(n_symbols, rows, seed=3),
                                analyst=RankingAnalyst(), run_id="obs")  # fmt: skip
    loop.run()
    obs = loop.last_observation
    loop.close()
    assert obs is not None
    return obs


def _table_rows(text: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(next(x for x in lines if x.startswith("symbol,"))) + 1
    return [x.split(",")[0] for x in lines[start:-1]]


def test_the_table_fits_the_token_budget_and_keeps_the_ranking_order() -> None:
    obs = _observation(300)
    analyst = LLMPortfolioAnalyst(ScriptedClient(['{"weights": {}, "reason": "x"}']),
                                  mode="table", token_budget=1_500)  # fmt: skip
    messages, shown = analyst.table_prompt(obs)
    tokens = estimate_prompt_tokens(LLMRequest.build(messages))
    assert tokens <= 1_500
    assert 0 < len(shown) < 300
    rows = _table_rows(messages[-1]["content"])
    assert rows == [obs.symbols[j] for j in shown]
    trend = obs.features["trend"]
    ranks = [abs(trend[j]) for j in shown if trend[j] is not None]
    assert ranks == sorted(ranks, reverse=True)
    assert f"{len(shown)} of 300 tradable symbols shown" in messages[-1]["content"]
    decision = analyst(obs)
    assert decision.source.value == "llm"
    assert analyst.last_prompt_tokens[0] == tokens


def test_a_valid_answer_becomes_target_weights_with_its_llm_call() -> None:
    obs = _observation(8)
    _, shown = LLMPortfolioAnalyst(ScriptedClient([]), mode="table").table_prompt(obs)
    pick = [obs.symbols[j] for j in shown[:2]]
    answer = json.dumps({"weights": {pick[0]: 0.5, pick[1]: 0.25}, "reason": "two trends"})
    client = ScriptedClient([answer])
    decision = LLMPortfolioAnalyst(client, mode="table")(obs)
    assert decision.target_weights == {pick[0]: 0.5, pick[1]: 0.25}
    assert decision.reason == "two trends"
    assert len(decision.llm_calls) == 1
    assert decision.llm_calls[0].error is None


@pytest.mark.parametrize(
    ("weights", "why"),
    [
        ({"NOPE": 0.1}, "not in the table shown"),
        ({"S000": -0.1}, "weights are finite numbers >= 0"),
        ({"S000": 0.7, "S001": 0.7}, "over invested"),
        ("all in", "no 'weights' object"),
    ],
)
def test_an_answer_that_breaks_a_rule_abstains_visibly(weights: object, why: str) -> None:
    obs = _observation(4)
    client = ScriptedClient([json.dumps({"weights": weights})])
    decision = LLMPortfolioAnalyst(client, mode="table", min_table_rows=1)(obs)
    assert decision.source.value == "abstain"
    assert decision.target_weights is None
    assert why in decision.reason
    assert why in (decision.llm_calls[0].error or "")
    assert decision.llm_calls[0].raw_response  # the raw answer is kept


def test_a_failing_client_abstains_and_the_loop_records_it() -> None:
    uni = make_synthetic_universe(4, 40, seed=5)
    analyst = LLMPortfolioAnalyst(ScriptedClient([LLMError("endpoint down")] * 40), mode="table")
    loop = make_portfolio_agent(uni, analyst=analyst, run_id="down")
    loop.run()
    steps = loop.store.steps("down")
    assert all(s.portfolio.decision.source.value == "abstain" for s in steps)
    assert "endpoint down" in steps[0].portfolio.decision.reason
    assert not loop.backend.fills
    loop.close()


def test_per_symbol_mode_asks_each_shortlisted_symbol_within_the_budget() -> None:
    obs = _observation(200)
    asked: list[str] = []

    def answer(request: LLMRequest) -> str:
        line = request.messages[-1]["content"].splitlines()[2]
        asked.append(line.split(",")[0])
        return json.dumps({"score": 0.9 if len(asked) % 2 else -0.5, "reason": "r"})

    analyst = LLMPortfolioAnalyst(ScriptedClient(answer), mode="auto", token_budget=250,
                                  shortlist=6, top_k=2, invested=0.8)  # fmt: skip
    assert analyst.mode_for(obs) == "per_symbol"
    decision = analyst(obs)
    assert len(asked) == 6
    assert len(decision.llm_calls) == 6
    assert max(analyst.last_prompt_tokens) <= 250
    assert decision.target_weights == {asked[0]: 0.4, asked[2]: 0.4}
    bad = LLMPortfolioAnalyst(ScriptedClient(['{"score": 7}']), mode="per_symbol")(obs)
    assert bad.source.value == "abstain"
    assert "scores are numbers in [-1, 1]" in bad.reason


def test_a_budget_too_small_for_any_prompt_is_a_config_error() -> None:
    obs = _observation(3)
    with pytest.raises(ConfigError, match="cannot hold even the prompt without rows"):
        LLMPortfolioAnalyst(ScriptedClient([]), mode="table", token_budget=20)(obs)


def test_the_llm_prompts_are_stored_with_the_step() -> None:
    uni = make_synthetic_universe(5, 45, seed=2)

    def answer(request: LLMRequest) -> str:
        first = request.messages[-1]["content"].splitlines()[2].split(",")[0]
        return json.dumps({"weights": {first: 0.3}, "reason": "first row"})

    loop = make_portfolio_agent(
        uni, analyst=LLMPortfolioAnalyst(ScriptedClient(answer), mode="table"), run_id="kept"
    )
    loop.run()
    step = loop.store.steps("kept")[-1]
    parts = step.portfolio.decision.llm_calls[0].request_parts
    kept = read_blobs(loop.store, "kept", list(parts))
    assert set(kept) == set(parts)
    assert any("symbol,trend,mom,vol,weight" in t for t in kept.values())
    assert loop.backend.fills  # it traded on the model's weights
    loop.close()
