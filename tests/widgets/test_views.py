"""ReasoningChainView, StepDetail and RiskRejectionInspector render what was recorded."""

from __future__ import annotations

from typing import Any

import pytest

from axon_lab.llm import MemoryCacheStore
from axon_lab.widgets import (
    ReasoningChainView,
    RiskRejectionInspector,
    StepDetail,
    get_rejection_rows,
    llm_totals,
)

from .conftest import MODEL, llm_client, record, verdict


def llm_steps(agent_factory: Any, n: int = 3) -> tuple[list[Any], list[Any]]:
    """The same steps recorded live (cost, no cache hit), then replayed (cache hits, free)."""
    cache = MemoryCacheStore()
    live = agent_factory(analyst=llm_client(cache, "record"), run_id="live")
    live.run(n)
    replay = agent_factory(analyst=llm_client(cache, "replay"), run_id="replay")
    replay.run(n)
    return live.store.steps("live"), replay.store.steps("replay")


def test_step_detail_shows_cost_and_cache_hits(agent_factory: Any) -> None:
    live, replayed = llm_steps(agent_factory)
    detail = StepDetail()
    detail.add(live)
    assert detail.record.step == 2  # the newest
    totals = llm_totals(live[2])
    # 800 + 900 tokens in at 1.0/Mtok, 20 + 60 out at 2.0/Mtok
    assert totals.n_calls == 2
    assert totals.n_cache_hits == 0
    assert totals.cost == pytest.approx((1700 * 1.0 + 80 * 2.0) / 1e6)
    html = detail.html.value
    assert "LLM calls: 2" in html
    assert "cost 0.001860" in html
    assert "cache hits 0/2" in html
    assert "tokens 1700 in / 80 out" in html
    assert html.count(">live<") == 2
    assert MODEL in html

    detail.clear()
    detail.add(replayed)
    html = detail.html.value
    assert "cache hits 2/2" in html
    assert "cost 0.000000" in html
    assert html.count(">hit<") == 2


def test_step_detail_picker_pins_an_earlier_step(agent_factory: Any) -> None:
    loop = agent_factory()
    loop.run(4)
    detail = StepDetail()
    detail.add(loop.store.steps("w")[:3])
    detail.picker.value = 1
    assert detail.record.step == 1
    assert "Step 1 of run w" in detail.html.value
    detail.add(loop.store.steps("w")[3:])  # a new step does not move a pinned view
    assert detail.record.step == 1
    assert detail.picker.max == 3
    detail.latest.click()
    assert detail.record.step == 3
    with pytest.raises(KeyError, match="step 9 is not shown"):
        detail.show(9)


def test_reasoning_chain_shows_thought_action_observation_and_final_json(
    agent_factory: Any,
) -> None:
    live, _ = llm_steps(agent_factory, n=1)
    view = ReasoningChainView()
    view.add(live)
    (entry,) = view.entries
    body, toggle, raw = entry.children
    html = body.value
    assert "Thought 1" in html
    assert "get_market_data" in html
    assert "&quot;lookback&quot;: 3" in html  # the tool arguments, pretty-printed
    assert "Observation" in html
    assert "last_price" in html
    assert "final JSON" in html
    assert "&quot;market_assessment&quot;: &quot;uptrend&quot;" in html
    assert "axon-reasoning-entry" in entry._dom_classes
    # the raw LLM text is rendered on demand only
    assert raw.value == ""
    assert raw.layout.display == "none"
    assert toggle.description == "raw LLM text (2 calls)"
    toggle.value = True
    assert "waiting for a pullback" in raw.value
    assert raw.layout.display is None
    toggle.value = False
    assert raw.layout.display == "none"


def test_reasoning_chain_of_the_rules_analyst_has_no_raw_text(agent_factory: Any) -> None:
    loop = agent_factory()
    loop.run(2)
    view = ReasoningChainView(max_entries=1)
    view.add(loop.store.steps("w"))
    assert view.steps == [1]
    _, toggle, _ = view.entries[0].children
    assert toggle.disabled
    assert toggle.description == "no raw LLM text"
    assert "rules" in view.entries[0].children[0].value


def hand_rows() -> list[Any]:
    return [
        record(0, verdict("direct", "safety_mode", approved=True)),
        record(
            1,
            verdict("max_daily_orders", "limit", limit=1.0, observed=2.0, client_order_id="o-1"),
        ),
        record(2, verdict("rejection_breaker", "gate", gate_state="halted")),
        record(3, verdict("max_position_value", "limit", limit=100.0, observed=150.5)),
    ]


def test_rejection_inspector_filters_by_rule_and_line() -> None:
    view = RiskRejectionInspector()
    view.add(hand_rows())
    assert [r.step for r in view.visible_rows] == [1, 2, 3]  # approvals are not listed
    assert view.rule_filter.options == (
        "(all)",
        "max_daily_orders",
        "max_position_value",
        "rejection_breaker",
    )
    assert view.line_filter.options == ("(all)", "gate", "limit")
    view.line_filter.value = "limit"
    assert [r.rule for r in view.visible_rows] == ["max_daily_orders", "max_position_value"]
    assert "2 of 3" in view.count.value
    view.rule_filter.value = "max_position_value"
    assert [(r.limit, r.observed) for r in view.visible_rows] == [("100.00", "150.50")]
    assert "150.50" in view.table.value
    assert "max_daily_orders" not in view.table.value
    view.line_filter.value = "gate"
    assert view.visible_rows == []  # rule and line both apply
    assert "no rejected order" in view.table.value
    view.set_filter(rule="rejection_breaker", line="gate")
    assert [r.gate_state for r in view.visible_rows] == ["halted"]
    view.set_filter()
    assert len(view.visible_rows) == 3
    view.clear()
    assert view.rows == []
    assert view.rule_filter.options == ("(all)",)


def test_rejection_inspector_on_a_real_run_shows_the_rejected_order(agent_factory: Any) -> None:
    loop = agent_factory()
    loop.run(15)
    view = RiskRejectionInspector()
    view.load(loop.store, "w")
    rows = view.visible_rows
    assert rows
    assert {r.rule for r in rows} == {"max_daily_orders"}
    assert rows == get_rejection_rows(loop.store.steps("w"))
    first = rows[0]
    assert (first.line, first.limit, first.observed) == ("limit", "1.00", "2.00")
    assert first.order.startswith("buy ")
    assert " SYN limit @ " in first.order
    assert first.client_order_id.startswith("w-")
    assert first.client_order_id in view.table.value
