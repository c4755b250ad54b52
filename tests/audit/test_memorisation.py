"""Memorisation audit: an anonymised re-run exposes a model that recalls ticker and date."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from axon_lab.audit import anonymise_frame, anonymised_rerun, prompt_leaks, real_markers
from axon_lab.data import make_synthetic
from axon_lab.errors import ConfigError
from axon_lab.explain import ExplainStore
from axon_lab.llm import ScriptedClient
from axon_lab.oader import make_agent

FRAME = make_synthetic(200, timeframe="1h", start="2024-03-04", seed=5, symbol="ACME")
STEPS = 60


def _answer(action: str, confidence: float) -> str:
    trend = {"buy": "uptrend", "sell": "downtrend", "hold": "range"}[action]
    return json.dumps(
        {
            "thought": "t",
            "market_assessment": trend,
            "risk_assessment": "low",
            "confidence": confidence,
            "action": action,
            "reason": "r",
        }
    )


# What a model that memorised ACME's history "knows": the next bar's direction, by ticker and
# decision time (a bar opening at s is decided on at s + 1h).
_NEXT = FRAME["close"].shift(-1)
MEMORY = {
    ("ACME", (t + pd.Timedelta(hours=1)).isoformat()): (
        "buy" if _NEXT[t] > FRAME["close"][t] else "sell"
    )
    for t in FRAME.index[:-1]
}


def memorised(request) -> str:
    text = request.messages[-1]["content"]
    symbol = re.search(r"== (\S+) ==", text)[1]
    when = re.search(r"Time: (\S+)", text)[1]
    recalled = MEMORY.get((symbol, when))
    return _answer(recalled, 0.9) if recalled else _answer("hold", 0.3)


def numbers_only(request) -> str:
    text = request.messages[-1]["content"]
    rows = [line.split(",") for line in text.splitlines() if re.match(r"\d{4}-\d\d-\d\dT", line)]
    before, last = float(rows[-2][4]), float(rows[-1][4])
    return _answer("buy" if last > before else "sell", 0.9)


def _run(model) -> ExplainStore:
    store = ExplainStore("sqlite://")
    make_agent(
        FRAME,
        analyst=ScriptedClient(model),
        store=store,
        run_id="orig",
        progress=False,
        start="2024-03-06",
        long_only=False,
    ).run(STEPS)
    return store


def test_a_model_that_recalls_ticker_and_date_loses_its_agreement():
    store = _run(memorised)
    report = anonymised_rerun(store, "orig", analyst=ScriptedClient(memorised), data=FRAME, seed=1)
    assert report.steps == STEPS
    assert report.analysis_agreement < 0.1  # it recalled every step, and recognises none
    assert report.decision_agreement < 0.5
    assert report.original_return != report.anonymised_return
    assert report.leaks == ()
    assert "decision agreement" in report.summary()


def test_a_model_that_reads_the_numbers_decides_the_same():
    store = _run(numbers_only)
    report = anonymised_rerun(
        store, "orig", analyst=ScriptedClient(numbers_only), data=FRAME, seed=1
    )
    assert report.decision_agreement == 1.0
    assert report.analysis_agreement == 1.0
    assert report.disagreeing_steps == ()
    assert report.original_return == pytest.approx(report.anonymised_return, abs=1e-9)
    low, high = report.interval
    assert abs(low) < 1e-9
    assert abs(high) < 1e-9


def test_no_prompt_of_the_anonymised_run_holds_a_real_symbol_date_or_price():
    store = _run(numbers_only)
    report = anonymised_rerun(
        store, "orig", analyst=ScriptedClient(numbers_only), data=FRAME, seed=7
    )
    first_close = f"{FRAME['close'].iloc[0]:.8g}"
    days = sorted({t.strftime("%Y-%m-%d") for t in FRAME.index})
    markers = ["ACME", first_close, *days]
    # every prompt of the re-run, read back from the store
    leaks, scanned = prompt_leaks(store, report.anonymised_run_id, markers)
    assert scanned == STEPS
    assert leaks == ()
    # the same scan finds them in the original run's prompts: the check can fail
    found, _ = prompt_leaks(store, "orig", markers)
    assert {"ACME", "2024-03-06"} <= {leak.marker for leak in found}
    seen_close = f"{FRAME['close'].iloc[40]:.8g}"
    assert seen_close in real_markers(FRAME)
    assert prompt_leaks(store, "orig", [seen_close])[0]
    assert not prompt_leaks(store, report.anonymised_run_id, [seen_close])[0]


def test_the_anonymised_copy_keeps_returns_weekdays_and_hides_levels_and_dates():
    anon = anonymise_frame(FRAME, seed=3)
    out = anon.frame
    assert out.attrs["symbol"] == "ASSET"
    assert np.allclose(out["close"].pct_change()[1:], FRAME["close"].pct_change()[1:])
    assert (out["high"] >= out[["open", "close"]].max(axis=1)).all()
    assert list(out.index.day_of_week) == list(FRAME.index.day_of_week)
    assert list(out.index.hour) == list(FRAME.index.hour)
    assert out.index[0] > FRAME.index[-1] + pd.Timedelta(days=3650)
    assert not 0.5 < anon.price_factor < 2.0
    assert not 0.5 < anon.volume_factor < 2.0
    again = anonymise_frame(FRAME, seed=3)
    assert again.price_factor == anon.price_factor
    assert again.shift == anon.shift


@pytest.mark.parametrize(
    ("alias", "match"), [("AC", "overlaps the real symbol"), ("my asset", "not usable")]
)
def test_a_bad_alias_is_refused(alias, match):
    with pytest.raises(ConfigError, match=match):
        anonymise_frame(FRAME, alias=alias, seed=0)


def test_a_run_without_steps_or_data_is_refused():
    store = ExplainStore("sqlite://")
    make_agent(FRAME, store=store, run_id="empty", progress=False)
    with pytest.raises(ConfigError, match="no steps"):
        anonymised_rerun(store, "empty", data=FRAME, seed=0)
    make_agent(FRAME, store=store, run_id="ran", progress=False).run(3)
    with pytest.raises(ConfigError, match="built from a frame"):
        anonymised_rerun(store, "ran", seed=0)
