"""Decision stability: steps where a sampled model disagrees with itself are found and listed."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from axon_lab.audit import check_stability
from axon_lab.data import make_synthetic
from axon_lab.errors import ConfigError
from axon_lab.explain import ExplainStore
from axon_lab.llm import CachedClient, ScriptedClient
from axon_lab.oader import make_agent

FRAME = make_synthetic(120, timeframe="1h", start="2024-05-06", seed=9, symbol="SYN")
ACTIONS = ("buy", "sell", "hold")


def _answer(action: str) -> str:
    trend = {"buy": "uptrend", "sell": "downtrend", "hold": "range"}[action]
    return json.dumps(
        {
            "thought": "t",
            "market_assessment": trend,
            "risk_assessment": "low",
            "confidence": 0.9,
            "action": action,
            "reason": "r",
        }
    )


def _hour(request) -> int:
    return int(re.search(r"Time: \d{4}-\d\d-\d\dT(\d\d)", request.messages[-1]["content"])[1])


class Wavering:
    """Answers at random (seeded) when the decision hour is even, always 'buy' when it is odd."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def __call__(self, request) -> str:
        if _hour(request) % 2 == 0:
            return _answer(str(self.rng.choice(ACTIONS)))
        return _answer("buy")


def _run() -> ExplainStore:
    store = ExplainStore("sqlite://")
    make_agent(
        FRAME,
        analyst=ScriptedClient(Wavering(0)),
        store=store,
        run_id="run",
        progress=False,
        start="2024-05-07",
        long_only=False,
        llm_params={"temperature": 0.8},
    ).run(30)
    return store


def test_steps_answered_at_random_are_unstable_and_the_others_stable():
    store = _run()
    steps = list(range(0, 30, 3))
    report = check_stability(
        store,
        "run",
        analyst=ScriptedClient(Wavering(1)),
        data=FRAME,
        steps=steps,
        n_samples=8,
        seed=100,
    )
    times = {s.step: s.timestamp for s in store.steps("run")}
    random_steps = {s for s in steps if times[s].hour % 2 == 0}
    assert set(report.unstable_steps) == random_steps
    for s in report.steps:
        if s.step in random_steps:
            assert s.agreement < 1.0
            assert s.entropy > 0.5
        else:
            assert s.actions == ("buy",) * 8
            assert s.agreement == 1.0
            assert s.entropy == 0.0
            assert s.quantity_std == pytest.approx(0.0, abs=1e-12)
    assert 0.0 < report.agreement < 1.0
    assert str(sorted(random_steps)[0]) in report.summary()
    assert report.to_dict()["unstable_steps"] == sorted(random_steps)


def test_each_sample_is_its_own_cache_entry_and_a_rerun_is_free(tmp_path):
    store = _run()
    cache = f"sqlite:///{tmp_path}/cache.db"
    inner = ScriptedClient(Wavering(2))
    first = check_stability(
        store,
        "run",
        analyst=CachedClient(inner, store=cache, mode="record"),
        data=FRAME,
        n_steps=4,
        n_samples=3,
        seed=5,
    )
    assert inner.n_requests == 4 * 3  # 3 samples of 4 steps: 12 distinct requests
    seeds = {r.params["seed"] for r in inner.requests}
    assert seeds == {5, 6, 7}
    assert {r.params["temperature"] for r in inner.requests} == {0.8}  # the run's sampling
    silent = ScriptedClient(lambda request: pytest.fail("a replay must not call the model"))
    again = check_stability(
        store,
        "run",
        analyst=CachedClient(silent, store=cache, mode="replay"),
        data=FRAME,
        n_steps=4,
        n_samples=3,
        seed=5,
    )
    assert again == first


def test_a_rules_run_is_perfectly_stable():
    store = ExplainStore("sqlite://")
    make_agent(FRAME, store=store, run_id="rules", progress=False).run(40)
    report = check_stability(store, "rules", data=FRAME, n_steps=5, n_samples=2, seed=0)
    assert report.unstable_steps == ()
    assert report.agreement == 1.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_samples": 1}, "n_samples must be"),
        ({"n_steps": 0}, "n_steps must be"),
        ({"steps": [999]}, "not decided steps"),
        ({"seed": "x"}, "seed must be an int"),
    ],
)
def test_bad_arguments_are_refused(kwargs, match):
    store = ExplainStore("sqlite://")
    make_agent(FRAME, store=store, run_id="r", progress=False).run(5)
    args = {"data": FRAME, "seed": 0, **kwargs}
    with pytest.raises(ConfigError, match=match):
        check_stability(store, "r", **args)
