"""`axon-lab paper` and `axon-lab live` against the local exchange on the wall clock (1 s bars).

The sessions are a few steps long; the live command's refusals are checked before anything
touches the network. Ctrl-C's cancelling of real open orders is tested on the runner
(tests/oader/test_live.py); here, that the command stops cleanly and says what it did.
"""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from axon_lab.cli import app
from axon_lab.data import make_synthetic
from axon_lab.explain import ExplainStore

pytest.importorskip("ccxt", reason="paper and live need axon-lab[exchange]")

from axon_lab.backends import LocalExchangeServer

SYMBOL = "BTC/USDT"
KEYS = {"AXON_EXCHANGE_API_KEY": "local-key", "AXON_EXCHANGE_SECRET": "local-secret"}
LIVE_OK = ["--i-understand-real-money", "--max-order-notional", "50"]


@pytest.fixture(scope="module")
def server():
    bars = make_synthetic(2_000, timeframe="1s", start="2024-01-01", seed=4, symbol=SYMBOL)
    with LocalExchangeServer.on_wall_clock(
        {SYMBOL: bars}, cash=1_000.0, history=300, timeframe="1s"
    ) as srv:
        yield srv


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env)


def session(server, tmp_path, command: str, *extra: str, env=None):
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    return invoke(
        command, "--symbol", SYMBOL, "--timeframe", "1s", "--url", server.url, "--steps", "2",
        "--history", "60", "--store", store, "--run-id", command, *extra, env=env,
    ), store  # fmt: skip


def test_paper_runs_steps_on_closed_bars_and_records_them(server, tmp_path):
    result, store = session(server, tmp_path, "paper")
    assert result.exit_code == 0, result.output
    assert "paper run paper: binance BTC/USDT 1s, 60 bars loaded" in result.output
    assert "2 steps" in result.output
    assert re.search(r"cancelled \d+ open order\(s\)\n", result.output)  # none left open
    with ExplainStore(store) as st:
        steps = st.steps("paper")
        assert len(steps) == 2
        assert steps[1].timestamp > steps[0].timestamp
        assert st.get_run("paper").config["trading"] == "paper"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ([], KEYS, "add --i-understand-real-money to confirm"),
        (["--i-understand-real-money"], KEYS, "refuses to start without limits"),
        (LIVE_OK, {"AXON_EXCHANGE_API_KEY": ""}, "set AXON_EXCHANGE_API_KEY and"),
        ([*LIVE_OK, "--mode", "yolo"], KEYS, "--mode 'yolo' must be two_phase, direct"),
        (["--i-understand-real-money", "--max-order-notional", "-5"], KEYS, "greater than 0"),
    ],
    ids=["no-confirmation", "no-limits", "no-key", "bad-mode", "bad-limit"],
)
def test_live_refuses_to_start_without_confirmation_limits_or_key(args, env, message):
    # a URL nothing listens on: a refusal must come before any request
    result = invoke("live", "--url", "http://127.0.0.1:9", "--steps", "1", *args, env=env)
    assert result.exit_code == 2
    assert message in result.output
    assert "run" not in result.output.split("error:")[0]  # no session started


def test_live_starts_in_two_phase_mode_and_trades_on_the_exchange(server, tmp_path):
    result, store = session(server, tmp_path, "live", *LIVE_OK, env=KEYS)
    assert result.exit_code == 0, result.output
    assert "two-phase mode: every order waits for a person's confirmation" in result.output
    assert "LIVE run live: binance BTC/USDT 1s" in result.output
    with ExplainStore(store) as st:
        info = st.get_run("live")
        assert info.config["safety_mode"] == "two_phase"
        assert info.config["backend"] == "ExchangeTradingBackend"
        assert info.config["limits"]["max_order_notional"] == 50.0
        assert len(st.steps("live")) == 2


def test_ctrl_c_stops_cleanly_and_says_what_became_of_open_orders(server, tmp_path, monkeypatch):
    from axon_lab.oader import LiveRunner

    async def interrupted(self, steps=None, *, until=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(LiveRunner, "arun", interrupted)
    result, _ = session(server, tmp_path, "live", *LIVE_OK, "--leave-orders", env=KEYS)
    assert result.exit_code == 0, result.output
    assert "stopped by Ctrl-C after 0 steps" in result.output
    assert "cancelled 0 open order(s)" in result.output
    assert "recorded in the explain store as run live" in result.output


def test_a_real_ctrl_c_ends_a_paper_session_cleanly(server, tmp_path):
    """SIGINT to `axon-lab paper` in its own process, once it has recorded a step."""
    import os
    import signal
    import subprocess
    import sys
    import time

    store = tmp_path / "runs.db"
    args = ["paper", "--symbol", SYMBOL, "--timeframe", "1s", "--url", server.url,
            "--history", "60", "--store", f"sqlite:///{store}", "--run-id", "sigint"]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-c", "from axon_lab.cli import main; main()", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        for _ in range(600):  # wait (up to a minute) for a recorded step, then press Ctrl-C
            if proc.poll() is not None or _recorded(store) >= 1:
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    stopped = r"stopped by Ctrl-C after [1-9]\d* steps\ncancelled \d+ open order\(s\)\n"
    assert re.search(stopped, out)
    assert "recorded in the explain store as run sigint" in out
    assert "Traceback" not in out


def _recorded(path) -> int:
    import sqlite3

    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path) as db:
            return int(db.execute("select count(*) from axon_steps").fetchone()[0])
    except sqlite3.Error:
        return 0
