"""Run an agent in its own process, printing "recorded N" after each step is committed.

Usage: python _crash_agent.py STORE_URL RUN_ID STEPS [--resume]
"""

from __future__ import annotations

import sys

from axon_lab.data import make_synthetic
from axon_lab.oader import make_agent
from axon_lab.records import StepRecord


def frame():  # type: ignore[no-untyped-def]
    return make_synthetic(400, timeframe="1h", start="2024-01-01", seed=11, symbol="SYN")


def main() -> None:
    url, run_id, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])

    def report(record: StepRecord) -> None:
        # The loop calls step-end callbacks after the recorder committed the step.
        print(f"recorded {record.step}", flush=True)

    loop = make_agent(frame(), store=url, run_id=run_id, progress=False, callbacks=[report])
    loop.run(steps)
    loop.close()


if __name__ == "__main__":
    main()
