"""Warm the forkserver of the evaluation's process pool (imported only as its preload).

Every worker process forks from one forkserver. Importing the loop there is not enough: a fresh
process still pays about a second on its first window to load the compiled fill kernels (numba's
first load in a process initialises its type registries, importing scipy.linalg among others)
and to set up SQLAlchemy and pydantic. So the forkserver runs one tiny rules window on an
in-memory store when it starts; workers forked from it start warm. The forkserver lives as long
as the parent process, so every later pool (the baselines' dispatch, the next evaluation) starts
its workers in milliseconds. Importing this module anywhere else only costs that one window.
"""

from __future__ import annotations

__all__: list[str] = []


def _warm() -> None:
    from axon_lab.data import make_synthetic
    from axon_lab.explain import ExplainStore
    from axon_lab.oader import make_agent

    frame = make_synthetic(40, timeframe="1d", seed=0, symbol="WARM")
    with ExplainStore("sqlite://") as store:
        make_agent(frame, cash=1_000.0, store=store, run_id="warm", progress=False).run(2)


try:
    _warm()
except Exception as exc:  # a cold worker is slower, never wrong: say so and go on
    import warnings

    warnings.warn(
        f"the evaluation's worker warm-up failed ({exc!r}); workers start cold", stacklevel=1
    )
