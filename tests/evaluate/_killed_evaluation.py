"""Run an evaluation that SIGKILLs its own process on the analyst's N-th call (a hard crash).

Usage: python _killed_evaluation.py STORE_URL EVAL_ID KILL_AT   (KILL_AT 0: never)
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from axon_lab.data import make_synthetic
from axon_lab.evaluate import AgentSpec, RandomAnalyst, evaluate

KILL_AT = {"at": 0, "calls": 0}


class KillingRandom:
    """A seeded RandomAnalyst whose process is killed (SIGKILL) on the KILL_AT-th call."""

    def __init__(self) -> None:
        self.inner = RandomAnalyst(rate=0.3, seed=5)
        self.name = self.inner.name

    def __call__(self, observation: Any) -> Any:
        KILL_AT["calls"] += 1
        if KILL_AT["calls"] == KILL_AT["at"]:
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no exception handler runs
        return self.inner(observation)


def killing_factory() -> KillingRandom:
    return KillingRandom()


def frame() -> Any:
    return make_synthetic(220, timeframe="1d", seed=9, symbol="KIL")


def run(url: str, eval_id: str) -> Any:
    return evaluate(
        AgentSpec(name="rnd", analyst=killing_factory, kind="cpu"),
        frame(),
        n_windows=3,
        warmup=50,
        n_random=1,
        store=url,
        evaluation_id=eval_id,
        workers=1,
        progress=False,
    )


if __name__ == "__main__":
    KILL_AT["at"] = int(sys.argv[3])
    run(sys.argv[1], sys.argv[2])
