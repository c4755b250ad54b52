"""The step widget's forecasts and similar-contexts sections: shown, and escaped."""

from __future__ import annotations

from datetime import UTC, datetime

from axon_lab.records import Action, Observation, PortfolioSnapshot, SimilarContext
from axon_lab.widgets import observation_extras_html

T = datetime(2024, 1, 2, tzinfo=UTC)


def _obs(**kw: object) -> Observation:
    return Observation(
        timestamp=T,
        symbols=("X",),
        timeframe="1h",
        bars={"X": ()},
        portfolio=PortfolioSnapshot.build(timestamp=T, cash=1.0),
        **kw,  # type: ignore[arg-type]
    )


def test_nothing_to_show_without_the_parts() -> None:
    assert observation_extras_html(_obs(features={"X": {"rsi_14": 50.0}})) == ""


def test_forecasts_and_contexts_are_shown_and_a_hostile_summary_is_escaped() -> None:
    past = SimilarContext(
        timestamp=datetime(2024, 1, 1, tzinfo=UTC),
        symbol="X",
        similarity=0.91234,
        summary="<script>alert(1)</script> rally",
        horizon=4,
        outcome_at=datetime(2024, 1, 1, 4, tzinfo=UTC),
        forward_return=0.0125,
        action=Action.BUY,
        result=-0.002,
    )
    page = observation_extras_html(
        _obs(features={"X": {"fc_vol": 0.0123, "fc_p_up": None}}, similar_contexts=(past,))
    )
    assert "Forecasts (fitted on earlier bars only)" in page
    assert "0.0123" in page
    assert "Similar past contexts: 1" in page
    assert "0.912" in page
    assert "+1.250%" in page
    assert "-0.200%" in page
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
