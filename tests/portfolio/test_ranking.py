"""RankingAnalyst on hand-built observations: ranking, halted holdings, caps, settings."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from axon_lab.errors import ConfigError
from axon_lab.portfolio import RankingAnalyst
from axon_lab.records import PortfolioObservation, PortfolioSnapshot

T0 = datetime(2024, 1, 2, tzinfo=UTC)


def _obs(trend, tradable, weights=None) -> PortfolioObservation:
    n = len(trend)
    syms = tuple(f"S{i}" for i in range(n))
    bars = {k: tuple(1.0 if ok else None for ok in tradable)
            for k in ("open", "high", "low", "close", "volume")}  # fmt: skip
    return PortfolioObservation(
        timestamp=T0, timeframe="1d", symbols=syms, tradable=tuple(tradable), bars=bars,
        marks=(1.0,) * n, features={"trend": tuple(trend)},
        weights=tuple(weights or (0.0,) * n), portfolio=PortfolioSnapshot.build(timestamp=T0,
                                                                              cash=1.0),
    )  # fmt: skip


def test_top_k_by_score_skipping_untradable_and_undefined() -> None:
    obs = _obs([3.0, None, 5.0, -1.0, 4.0, 9.0], [True, True, True, True, True, False])
    d = RankingAnalyst(top_k=2, invested=0.8)(obs)
    assert d.target_weights == {"S2": 0.4, "S4": 0.4}
    assert set(d.scores) == {"S0", "S2", "S3", "S4", "S5"}


def test_a_halted_holding_keeps_its_weight_and_shrinks_the_budget() -> None:
    obs = _obs([1.0, 2.0, 3.0], [True, True, False], weights=[0.0, 0.0, 0.3])
    d = RankingAnalyst(top_k=2, invested=0.9)(obs)
    assert d.target_weights is not None
    assert d.target_weights["S2"] == 0.3
    assert math.isclose(d.target_weights["S0"] + d.target_weights["S1"], 0.6)


def test_score_weighting_and_caps() -> None:
    obs = _obs([1.0, 3.0], [True, True])
    d = RankingAnalyst(top_k=2, invested=1.0, weighting="score")(obs)
    assert d.target_weights == {"S0": 0.25, "S1": 0.75}
    capped = RankingAnalyst(top_k=2, invested=1.0, weighting="score", max_weight=0.5)(obs)
    assert capped.target_weights == {"S0": 0.25, "S1": 0.5}


def test_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="top_k must be an int >= 1"):
        RankingAnalyst(top_k=0)
    with pytest.raises(ConfigError, match="weighting must be"):
        RankingAnalyst(weighting="rank")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="no feature 'nope'"):
        RankingAnalyst(feature="nope")(_obs([1.0], [True]))
