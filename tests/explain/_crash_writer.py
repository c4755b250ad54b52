"""Run the step loop against a store, printing "recorded N" after each commit.

Usage: python _crash_writer.py URL RUN_ID N_STEPS DELAY_S

The crash-safety test SIGKILLs this process mid-run; the concurrency test runs several at once.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> None:
    import _steps  # this script's directory is sys.path[0]

    from axon_lab.explain import ExplainStore

    url, run_id, n_steps, delay = argv[0], argv[1], int(argv[2]), float(argv[3])
    with ExplainStore(url) as store:
        if run_id not in {run.run_id for run in store.runs()}:
            store.create_run(
                {"symbol": _steps.SYMBOL, "timeframe": "1h"},
                run_id=run_id,
                data_fingerprint="sha256:synthetic",
                model="gpt-4o-mini",
            )
        print("started", flush=True)

        def report(step: int) -> None:
            print(f"recorded {step}", flush=True)

        _steps.run_loop(store, run_id, n_steps, delay=delay, on_recorded=report)
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
