"""The live market view against the local exchange (real HTTP on 127.0.0.1, ccxt pointed at it).

The exchange's clock is a simulated one the test moves; the feed is refreshed at stated times.
The look-ahead property is the one ``test_view.py`` holds for ``MarketView``, run against the live
view: the exchange serves bars that are perturbed after ``t`` (and bars still forming at ``t``),
and the view at ``t`` equals a plain ``MarketView`` of the unperturbed bars.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from axon_lab.clock import SimulatedClock
from axon_lab.data import FeedGapWarning, LiveMarketView, MarketView, make_synthetic
from axon_lab.errors import ConfigError

pytest.importorskip("ccxt", reason="the live feed needs axon-lab[exchange]")

from axon_lab.backends import LocalExchangeServer

SYMBOL = "BTC/USDT"
MIN = pd.Timedelta(minutes=1)
SOURCE = make_synthetic(300, timeframe="1m", start="2024-03-01", seed=5, symbol=SYMBOL)


@pytest.fixture(scope="module")
def server():
    clock = SimulatedClock((SOURCE.index[-1] + MIN).to_pydatetime())
    with LocalExchangeServer({SYMBOL: SOURCE}, cash=1.0, clock=clock) as srv:
        yield srv


def at(i: int, extra: pd.Timedelta | None = None) -> pd.Timestamp:
    """Bar ``i``'s open time (plus ``extra``)."""
    return SOURCE.index[i] + (pd.Timedelta(0) if extra is None else extra)


def reset(server, bars: pd.DataFrame, now: pd.Timestamp) -> SimulatedClock:
    clock = SimulatedClock(now.to_pydatetime())
    server.reset({SYMBOL: bars}, cash=1.0, clock=clock)
    return clock


def feed(server, clock, *, timeframe="1m", **kw) -> LiveMarketView:
    kw.setdefault("history", 50)
    return LiveMarketView(
        "binance", [SYMBOL], timeframe, clock=clock, url=server.url,
        config={"rateLimit": 1}, retry_pause=0.0, **kw,
    )  # fmt: skip


def same_bars(got: pd.DataFrame, want: pd.DataFrame) -> None:
    cols = ["open", "high", "low", "close", "volume"]
    pd.testing.assert_frame_equal(got[cols], want[cols], check_freq=False, check_names=False)


def test_it_loads_the_closed_history_and_never_the_forming_bar(server):
    clock = reset(server, SOURCE, at(100, pd.Timedelta(seconds=30)))  # bar 100 is forming
    view = feed(server, clock, history=40)
    bars = view.as_of(view.end)
    assert bars.index[-1] == at(99)
    same_bars(bars, SOURCE.iloc[60:100])
    # the exchange's clock runs ahead of the feed's cut: what it serves past the cut is dropped
    clock.set(at(150).to_pydatetime())
    added = view.refresh(at(120, pd.Timedelta(seconds=59)))
    same_bars(added[SYMBOL], SOURCE.iloc[100:120])
    assert view.end == at(120)  # bar 119 completes at 120's open; 120 was still forming
    assert view.next_close == at(121)


def test_a_refresh_backfills_every_missed_bar_page_by_page(server):
    clock = reset(server, SOURCE, at(80))
    view = feed(server, clock, page=7)
    before = view.as_of(view.end)
    clock.set(at(117).to_pydatetime())  # 37 polls were missed
    requests = view.requests
    added = view.refresh()
    same_bars(added[SYMBOL], SOURCE.iloc[80:117])
    assert view.requests - requests == 6  # 37 bars in pages of 7
    same_bars(view.as_of(view.end), SOURCE.iloc[30:117])
    # appending never rewrites what an earlier cut returned
    pd.testing.assert_frame_equal(view.as_of(at(80)), before)
    assert view.refresh() == {}  # nothing closed since


def test_a_bar_the_exchange_skipped_is_reported_as_a_gap(server):
    holed = SOURCE.drop(index=[at(95), at(96)])
    clock = reset(server, holed, at(90))
    view = feed(server, clock)
    clock.set(at(100).to_pydatetime())
    with pytest.warns(FeedGapWarning, match=r"no 1m bar for BTC/USDT 2024-03-01 01:35:00\+00:00"):
        added = view.refresh()
    assert view.gaps == [(SYMBOL, at(95)), (SYMBOL, at(96))]
    assert list(added[SYMBOL].index) == [at(i) for i in (90, 91, 92, 93, 94, 97, 98, 99)]
    assert view.as_of(view.end).index[-1] == at(99)


def test_a_bar_not_published_yet_is_not_a_gap(server):
    clock = reset(server, SOURCE.iloc[:100], at(100))
    view = feed(server, clock)
    added = view.refresh(at(103))  # the exchange has nothing past bar 99 yet
    assert added == {}
    assert view.gaps == []
    assert view.end == at(100)


def test_bad_arguments_are_refused_with_the_fix(server):
    clock = reset(server, SOURCE, at(100))
    with pytest.raises(ConfigError, match=r"must be a list, e\.g\. \['BTC/USDT'\]"):
        LiveMarketView("binance", SYMBOL, "1m", clock=clock, url=server.url)
    with pytest.raises(ConfigError, match="history=0 must be an integer >= 1"):
        feed(server, clock, history=0)
    with pytest.raises(ConfigError, match=r"no exchange 'binanse'\. Did you mean 'binance'"):
        LiveMarketView("binanse", [SYMBOL], "1m", clock=clock)
    with pytest.raises(ConfigError, match="refused the bars of BTC/USDT 5m"):
        feed(server, clock, timeframe="5m")  # the local exchange has 1m bars only


# --------------------------------------------------------------------------- look-ahead property

SPEC = ["ret_1", "sma_10", "ema_10", "rsi_14", "atr_14", "bb_20_2", "vol_20", "macd_12_26_9"]
BASE_VIEW = MarketView(SOURCE, feature_spec=SPEC)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    offset=st.integers(60 * 10**6, 290 * 60 * 10**6),  # microseconds: a clock holds no finer
    seed=st.integers(0, 2**32 - 1),
    later=st.integers(0, 5),
)
def test_bars_after_t_at_the_exchange_never_change_the_live_view_at_t(
    server, offset: int, seed: int, later: int
) -> None:
    t = SOURCE.index[0] + pd.Timedelta(offset, "us")
    complete = SOURCE.index + MIN <= t
    rng = np.random.default_rng(seed)
    changed = SOURCE.copy()
    factor = rng.uniform(0.5, 2.0, size=(int((~complete).sum()), 1))
    changed.loc[~complete, :] = SOURCE.loc[~complete, :].to_numpy() * factor
    # the exchange serves every bar (its clock is at the end); the feed's clock says t
    reset(server, changed, SOURCE.index[-1] + MIN)
    view = feed(server, SimulatedClock(t.to_pydatetime()), history=1_000, feature_spec=SPEC)
    assert view.end <= t  # nothing still forming at t was taken
    before, after = BASE_VIEW.as_of(t), view.as_of(t)
    same_bars(after, before)
    assert before.to_numpy().tobytes() == after[list(before.columns)].to_numpy().tobytes()
    f_before, f_after = BASE_VIEW.features_as_of(t), view.features_as_of(t)
    assert f_before.keys() == f_after.keys()
    for name, value in f_before.items():
        other = f_after[name]
        assert (value is None and other is None) or (
            value is not None and other is not None
            and np.float64(value).tobytes() == np.float64(other).tobytes()
        ), name  # fmt: skip
    assert BASE_VIEW.last_price(t) == view.last_price(t)
    # later refreshes append (perturbed) bars but leave every read at t as it was
    view.refresh(t + MIN * later)
    same_bars(view.as_of(t), before)
    assert view.features_as_of(t) == f_after


class FormingBarClient:
    """The real ccxt client, plus what Binance adds and the local exchange never sends: the bar
    still forming as the last row. Its clock (``fetch_time``) runs ``lag`` behind the feed's."""

    def __init__(self, server, clock, lag: pd.Timedelta) -> None:
        from axon_lab.data.download import _client

        self.inner = _client("binance", {"rateLimit": 1}, server.url)
        self.clock, self.lag = clock, lag

    def fetch_time(self) -> int:
        return int((pd.Timestamp(self.clock.now()) - self.lag).value // 1_000_000)

    def fetch_ohlcv(self, symbol, timeframe, since, limit):
        rows = self.inner.fetch_ohlcv(symbol, timeframe, since, limit)
        forming_open = pd.Timestamp(self.fetch_time(), unit="ms", tz="UTC").floor("min")
        if rows and rows[-1][0] < forming_open.value // 1_000_000:
            last = rows[-1][4]
            rows.append([forming_open.value // 1_000_000, last, last * 3, last, last * 3, 1.0])
        return rows


def test_a_forming_bar_is_dropped_even_when_our_clock_runs_ahead_of_the_exchange(server):
    clock = reset(server, SOURCE, at(100, pd.Timedelta(seconds=59)))
    # at our 01:40:59 the exchange's clock says 01:39:59: bar 99 (01:39) is still forming there,
    # yet our clock alone would call it complete at 01:40
    client = FormingBarClient(server, clock, lag=MIN)
    server.reset({SYMBOL: SOURCE}, cash=1.0, clock=SimulatedClock(clock.now() - MIN))
    view = LiveMarketView("binance", [SYMBOL], "1m", history=30, clock=clock, client=client)
    assert view.end == at(99)  # bar 98 is the last complete one at the exchange
    same_bars(view.as_of(view.end), SOURCE.iloc[69:99])
    client.lag = pd.Timedelta(0)  # the clocks agree: now bar 99 is complete
    server.reset({SYMBOL: SOURCE}, cash=1.0, clock=clock)
    added = view.refresh()
    same_bars(added[SYMBOL], SOURCE.iloc[99:100])
