"""Exchange downloads into the Parquet cache, against the local exchange (127.0.0.1)."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from axon_lab.clock import SimulatedClock
from axon_lab.data import make_synthetic
from axon_lab.data.download import cached_path, fetch_ohlcv, load_cached
from axon_lab.errors import BackendError, DataError

pytest.importorskip("ccxt", reason="downloads need axon-lab[exchange]")

from axon_lab.backends import LocalExchangeServer

N_BARS = 240
PAGE = 50


@pytest.fixture(scope="module")
def source() -> pd.DataFrame:
    bars = make_synthetic(N_BARS, timeframe="1h", start="2023-01-01", seed=11, symbol="BTC/USDT")
    return bars


@pytest.fixture(scope="module")
def server(source):
    clock = SimulatedClock((source.index[-1] + pd.Timedelta(hours=1)).to_pydatetime())
    with LocalExchangeServer({"BTC/USDT": source}, cash=1.0, clock=clock) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _no_faults(server):
    yield
    server.faults.clear()


def fetch(server, root, since="2023-01-01", **kw):
    return fetch_ohlcv(
        "binance", "BTC/USDT", "1h", since, root=root, url=server.url,
        config={"rateLimit": 1}, page=PAGE, progress=False, retry_pause=0.0, **kw,
    )  # fmt: skip


def same_bars(got: pd.DataFrame, want: pd.DataFrame) -> None:
    cols = ["open", "high", "low", "close", "volume"]
    pd.testing.assert_frame_equal(got[cols], want[cols], check_freq=False, check_names=False)


def test_download_writes_every_closed_bar_once(server, source, tmp_path):
    path = fetch(server, tmp_path)
    assert path == tmp_path / "binance" / "BTC-USDT_1h.parquet"
    same_bars(load_cached("binance", "BTC/USDT", "1h", root=tmp_path), source)


def test_an_interrupted_download_resumes_after_what_it_cached(server, source, tmp_path):
    # the network dies after two pages: the error says how much is kept
    server.faults.set(skip=2, drops=1_000, only=frozenset({"klines"}))
    with pytest.raises(BackendError, match=f"{2 * PAGE} bars are cached. Rerun"):
        fetch(server, tmp_path)
    assert len(load_cached("binance", "BTC/USDT", "1h", root=tmp_path)) == 2 * PAGE
    server.faults.clear()

    # killed (Ctrl-C) after one more page
    def kill(written: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch(server, tmp_path, on_page=kill)
    assert len(load_cached("binance", "BTC/USDT", "1h", root=tmp_path)) == 3 * PAGE
    pages: list[int] = []
    fetch(server, tmp_path, on_page=pages.append)
    assert pages[0] == 4 * PAGE  # the rerun asked only for bars after the cached ones
    same_bars(load_cached("binance", "BTC/USDT", "1h", root=tmp_path), source)


def test_an_earlier_since_fetches_the_head_and_keeps_bars_unique(server, source, tmp_path):
    fetch(server, tmp_path, since=source.index[100])
    assert len(load_cached("binance", "BTC/USDT", "1h", root=tmp_path)) == N_BARS - 100
    fetch(server, tmp_path, since=source.index[0])
    got = load_cached("binance", "BTC/USDT", "1h", root=tmp_path)
    assert got.index.is_unique
    same_bars(got, source)


def test_invalid_bars_are_never_written(server, source, tmp_path):
    bad = source.copy()
    bad.iloc[5, bad.columns.get_loc("high")] = bad["low"].iloc[5] / 2  # high below low
    clock = SimulatedClock((bad.index[-1] + pd.Timedelta(hours=1)).to_pydatetime())
    server.reset({"BTC/USDT": bad}, cash=1.0, clock=clock)
    try:
        with pytest.raises(DataError, match="high"):
            fetch(server, tmp_path)
        assert not (tmp_path / "binance" / "BTC-USDT_1h.parquet").exists()
    finally:
        clock = SimulatedClock((source.index[-1] + pd.Timedelta(hours=1)).to_pydatetime())
        server.reset({"BTC/USDT": source}, cash=1.0, clock=clock)


def test_the_cli_fetches_and_the_loader_reads_it_by_name(server, source, tmp_path, monkeypatch):
    from axon_lab.cli import app
    from axon_lab.oader.agent import load_data

    args = ["data", "fetch", "--exchange", "binance", "--symbol", "BTC/USDT", "--timeframe", "1h",
            "--since", "2023-01-01", "--url", server.url, "--cache", str(tmp_path)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"{N_BARS} bars" in result.output
    monkeypatch.setenv("AXON_DATA_CACHE", str(tmp_path))
    assert cached_path("binance:BTC/USDT:1h") is not None
    frame, described = load_data("binance:BTC/USDT:1h")
    assert described == "cache:binance:BTC/USDT:1h"
    same_bars(frame, source)
    with pytest.raises(DataError, match="axon-lab data fetch --exchange binance"):
        load_cached("binance", "ETH/USDT", "1h", root=tmp_path)


def test_a_download_killed_mid_way_resumes(server, source, tmp_path):
    """`axon-lab data fetch` killed (SIGKILL) after its first page; a rerun completes it."""
    import subprocess
    import sys
    import time

    server.faults.set(latency=0.3, only=frozenset({"klines"}))  # slow pages, so it is caught
    path = tmp_path / "binance" / "BTC-USDT_1h.parquet"
    code = "from axon_lab.cli import main; main()"
    args = ["data", "fetch", "--exchange", "binance", "--symbol", "BTC/USDT", "--timeframe", "1h",
            "--since", "2023-01-01", "--url", server.url, "--cache", str(tmp_path),
            "--page", str(PAGE)]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(600):  # wait (up to a minute) for the first page on disk, then kill
            if path.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        proc.kill()
    finally:
        proc.wait()
    server.faults.clear()
    assert path.exists()
    kept = len(load_cached("binance", "BTC/USDT", "1h", root=tmp_path))
    assert PAGE <= kept < N_BARS  # killed mid-way, with whole pages on disk
    pages: list[int] = []
    fetch(server, tmp_path, on_page=pages.append)
    assert pages[0] == kept + PAGE  # the rerun started after what was kept
    same_bars(load_cached("binance", "BTC/USDT", "1h", root=tmp_path), source)
