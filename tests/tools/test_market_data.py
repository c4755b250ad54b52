from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from axon_lab.clock import SimulatedClock
from axon_lab.errors import ConfigError
from axon_lab.tools import MarketDataTool, MarketDataView, ToolRegistry

START = datetime(2024, 1, 1, tzinfo=UTC)


class FakeView:
    """Three daily bars of X; records the times it was asked about."""

    symbols = ("X",)
    timeframe = "1d"

    def __init__(self) -> None:
        idx = pd.date_range(START, periods=3, freq="D", name="timestamp")
        self.bars = pd.DataFrame(
            {
                "open": [1.0, 2.0, 3.0],
                "high": [1.5, 2.5, 3.5],
                "low": [0.5, 1.5, 2.5],
                "close": [1.25, 2.25, 3.25],
                "volume": [10.0, 20.0, 30.0],
            },
            index=idx,
        )
        self.asked: list[datetime] = []

    def as_of(self, t, symbol=None, lookback=None):
        self.asked.append(t)
        done = self.bars[self.bars.index + pd.Timedelta(days=1) <= t]
        return done if lookback is None else done.tail(lookback)

    def features_as_of(self, t, symbol=None):
        n = len(self.as_of(t))
        return {
            "sma_2": None if n < 2 else float(self.bars["close"].iloc[n - 2 : n].mean()),
            "nan": float("nan"),
        }


def ask(tool: MarketDataTool, **args) -> dict:
    return json.loads(tool.execute(json.dumps(args)))


def test_reads_only_what_is_complete_at_the_clock():
    clock = SimulatedClock(START + timedelta(days=2, hours=1))
    view = FakeView()
    tool = MarketDataTool(view, clock)
    answer = ask(tool, symbol="X")
    assert [b["close"] for b in answer["bars"]] == [1.25, 2.25]
    assert answer["bars"][0]["timestamp"] == "2024-01-01T00:00:00+00:00"
    assert answer["last_price"] == 2.25
    assert answer["timeframe"] == "1d"
    assert answer["features"] == {"sma_2": 1.75, "nan": None}
    assert set(view.asked) == {clock.now()}


def test_before_the_first_bar_completes():
    tool = MarketDataTool(FakeView(), SimulatedClock(START))
    answer = ask(tool, symbol="X", include_features=False)
    assert answer["bars"] == []
    assert answer["last_price"] is None
    assert "features" not in answer
    assert "no bar of X is complete yet" in answer["message"]


def test_lookback_and_symbol_validation():
    tool = MarketDataTool(FakeView(), SimulatedClock(START + timedelta(days=9)), max_lookback=2)
    assert len(ask(tool, symbol="X", lookback=1)["bars"]) == 1
    too_many = ask(tool, symbol="X", lookback=3)
    assert "above the maximum 2" in too_many["error"]["message"]
    assert ask(tool, symbol="Y")["error"]["type"] == "unknown_symbol"
    assert "greater than or equal to 1" in ask(tool, symbol="X", lookback=0)["error"]["message"]
    with pytest.raises(ConfigError, match="max_lookback"):
        MarketDataTool(FakeView(), SimulatedClock(START), max_lookback=0)


def test_real_market_view_satisfies_the_protocol():
    from axon_lab.data import MarketView
    from axon_lab.data.synthetic import make_synthetic

    frame = make_synthetic(40, timeframe="1d", seed=7, symbol="SYN")
    view = MarketView({"SYN": frame}, feature_spec=["sma_5"])
    assert isinstance(view, MarketDataView)
    t = view.start + pd.Timedelta(days=10)
    tool = MarketDataTool(view, SimulatedClock(t.to_pydatetime()))
    answer = ask(tool, symbol="SYN", lookback=3)
    assert len(answer["bars"]) == 3
    assert answer["last_price"] == pytest.approx(view.last_price(t, "SYN"))
    assert answer["bars"][-1]["timestamp"] == (t - pd.Timedelta(days=1)).isoformat()
    assert answer["features"]["sma_5"] == pytest.approx(view.features_as_of(t, "SYN")["sma_5"])
    assert "get_market_data" in ToolRegistry([tool])


def test_make_trading_tools_adds_market_data_on_the_loop_clock(clock):
    from axon_lab.backends import MockTradingBackend
    from axon_lab.tools import make_trading_tools

    view = FakeView()
    tools = make_trading_tools(MockTradingBackend({"X": 1.0}, cash=0.0, clock=clock), view=view)
    assert tools.names[-1] == "get_market_data"
    json.loads(tools.execute("get_market_data", '{"symbol": "X"}'))
    assert view.asked[-1] == clock.now()
