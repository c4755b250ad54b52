from __future__ import annotations

from datetime import timedelta

import pytest

from axon_lab.errors import ConfigError
from axon_lab.explain import ExplainStore
from axon_lab.viz import DECISION_KINDS, get_decisions_info, plot_decisions


def _groups(info):
    return {m.kind: m for m in info.markers}


def test_each_step_lands_in_one_kind_on_its_bar(frame, run_steps):
    # order does not matter
    info = get_decisions_info(frame, list(reversed(run_steps)), show_holds=True)
    groups = _groups(info)
    assert tuple(groups) == DECISION_KINDS
    assert {k: g.steps for k, g in groups.items()} == {
        "buy": [0, 7],
        "sell": [1],
        "hold": [2],
        "abstain": [3, 4],
        "rejected": [5, 6],
        "stop_loss": [],
        "take_profit": [],
    }
    # step i happens half an hour into bar i: drawn on bar i
    for g in info.markers:
        assert g.x == [frame.index[s] for s in g.steps]
    assert groups["buy"].y == [frame["low"].iloc[0], frame["low"].iloc[7]]
    assert groups["sell"].y == [frame["high"].iloc[1]]
    for kind in ("hold", "abstain", "rejected"):
        assert groups[kind].y == [frame["close"].iloc[s] for s in groups[kind].steps]


def test_candles_are_the_frame(frame, run_steps):
    info = get_decisions_info(frame, run_steps)
    assert info.symbol == "SYN"
    assert info.x == list(frame.index)
    assert info.open == frame["open"].tolist()
    assert info.close == frame["close"].tolist()


def test_hover_and_fields_carry_step_action_confidence_reason_and_rule(frame, run_steps):
    groups = _groups(get_decisions_info(frame, run_steps, show_holds=True))
    buy = groups["buy"]
    assert buy.actions == ["buy", "buy"]
    assert buy.confidences == [0.8, 0.9]
    assert buy.hover[0].split("<br>") == [
        f"step 0 at {run_steps[0].timestamp.isoformat()}",
        "action: buy",
        "confidence: 0.80",
        "reason: uptrend",
    ]
    # reasons are user/LLM text: escaped, never interpreted as HTML
    assert "reason: &lt;b&gt;trend&lt;/b&gt; &amp; volume" in buy.hover[1]
    rejected = groups["rejected"]
    assert rejected.actions == ["buy", "sell"]
    assert rejected.rules == ["limit/max_position", "gate/drawdown_breaker"]
    assert "rejected by limit/max_position: limit 1.0, observed 1.5" in rejected.hover[0]
    assert "rejected by gate/drawdown_breaker: limit 5%, observed 6.2%" in rejected.hover[1]
    abstain = groups["abstain"]
    assert abstain.actions == ["", "hold"]
    assert abstain.confidences == [None, 0.0]
    assert "reason: analyze failed: analyze timed out" in abstain.hover[0]
    assert "confidence: n/a" in abstain.hover[0]
    assert groups["hold"].rules == [""]


def test_long_reasons_are_cut(frame, make_step):
    step = make_step(0, action="hold", reason="x" * 50)
    info = get_decisions_info(frame, [step], max_reason_chars=10, show_holds=True)
    (hover,) = _groups(info)["hold"].hover
    assert "reason: " + "x" * 9 + "\N{HORIZONTAL ELLIPSIS}" in hover


def test_renderer_draws_candles_and_one_trace_per_nonempty_kind(frame, run_steps):
    fig = plot_decisions(frame, run_steps, show_holds=True)
    assert [t.type for t in fig.data] == ["candlestick"] + ["scatter"] * 5
    assert [t.name for t in fig.data] == ["SYN", *DECISION_KINDS[:5]]
    assert len(fig.data[0].x) == len(frame)
    assert [len(t.x) for t in fig.data[1:]] == [2, 1, 1, 2, 2]
    symbols = {t.marker.symbol for t in fig.data[1:]}
    colours = {t.marker.color for t in fig.data[1:]}
    assert len(symbols) == len(colours) == 5  # every kind looks different
    assert "hold" not in [t.name for t in plot_decisions(frame, run_steps).data]  # on request
    only_buys = plot_decisions(frame, run_steps[:1])
    assert [t.name for t in only_buys.data] == ["SYN", "buy"]


def test_steps_read_back_from_the_explain_store_give_the_same_info(frame, run_steps):
    run_id = run_steps[0].run_id
    with ExplainStore("sqlite://") as store:
        store.create_run({}, run_id=run_id, data_fingerprint="f", model="test-model")
        for step in run_steps:
            store.record_step(step)
        stored = store.steps(run_id)
    assert get_decisions_info(frame, stored) == get_decisions_info(frame, run_steps)


def test_steps_outside_the_frame_are_refused(frame, make_step):
    early = make_step(0, offset=-timedelta(hours=1))
    with pytest.raises(ConfigError, match="before the first bar"):
        get_decisions_info(frame, [early])
    late = make_step(11, offset=timedelta(hours=3))
    with pytest.raises(ConfigError, match="after the last bar"):
        get_decisions_info(frame, [late])


def test_bad_inputs_name_the_problem(frame, run_steps, make_step):
    with pytest.raises(ConfigError, match="steps is empty"):
        get_decisions_info(frame, [])
    with pytest.raises(ConfigError, match=r"steps\[1\] is a dict, not a StepRecord"):
        get_decisions_info(frame, [run_steps[0], {}])
    with pytest.raises(ConfigError, match="step 0 twice"):
        get_decisions_info(frame, [run_steps[0], run_steps[0]])
    other_run = run_steps[1].replace(run_id="other")
    with pytest.raises(ConfigError, match=r"mixes 2 runs \['other', 'run-viz'\]"):
        get_decisions_info(frame, [run_steps[0], other_run])
    with pytest.raises(
        ConfigError,
        match=r"frame has no 'close' column; its columns are \[.*\]. Rename 'Close' to 'close'",
    ):
        get_decisions_info(frame.rename(columns={"close": "Close"}), run_steps)
    naive = frame.tz_localize(None)
    with pytest.raises(ConfigError, match="timezone-aware DatetimeIndex"):
        get_decisions_info(naive, run_steps)
    with pytest.raises(ConfigError, match="not sorted"):
        get_decisions_info(frame.iloc[::-1], run_steps)
    with pytest.raises(ConfigError, match="earlier than step"):
        get_decisions_info(frame, [make_step(1), make_step(0).replace(step=2)])
    with pytest.raises(ConfigError, match="max_reason_chars"):
        get_decisions_info(frame, run_steps, max_reason_chars=0)
    with pytest.raises(ConfigError, match="DataFrame"):
        get_decisions_info(frame["close"], run_steps)  # type: ignore[arg-type]


def test_bracket_exits_are_drawn_where_they_filled_with_their_cause():
    # before: 2,000 grey hold markers covered the price while stop-loss and take-profit exits
    # were not drawn at all
    from axon_lab.data import make_synthetic
    from axon_lab.oader import make_agent

    data = make_synthetic(1_500, timeframe="1h", start="2024-01-01", seed=21, symbol="SYN")
    loop = make_agent(data, store="sqlite://", run_id="brackets", progress=False)
    loop.run()
    steps = loop.store.steps("brackets")
    info = get_decisions_info(data, steps)
    groups = _groups(info)
    assert groups["hold"].steps == []
    exits = groups["stop_loss"].steps + groups["take_profit"].steps
    assert exits, "the run closed no position through a bracket"
    placed = {a.order_id for s in steps for a in s.acks}
    bracket_fills = [
        f for s in steps for f in s.fills if f.order_id not in placed
    ]  # fills of orders no step placed: the backend's bracket exits
    assert len(exits) == len(bracket_fills)
    assert sorted(groups["stop_loss"].y + groups["take_profit"].y) == sorted(
        f.price for f in bracket_fills
    )
    entries = [s for s in steps if s.decision is not None and s.decision.stop_loss is not None]
    for price, kind in [(y, "stop_loss") for y in groups["stop_loss"].y] + [
        (y, "take_profit") for y in groups["take_profit"].y
    ]:
        # each exit sits nearer the bracket it is named after, for some entry before it
        assert any(
            (abs(price - e.decision.stop_loss) <= abs(price - e.decision.take_profit))
            == (kind == "stop_loss")
            for e in entries
        )
    loop.close()
