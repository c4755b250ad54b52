"""The ``axon-lab sweep`` command (registered by :mod:`axon_lab.cli`): Optuna workers on one study.

The objective is named (``--objective sma | rl | loop | package.module:factory``) and given
plain options (``--option KEY=VALUE``), so workers on this machine or others build it themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["sweep"]


def sweep(
    trials: Annotated[int, typer.Option(help="Total trials, split between the workers.")] = 100,
    workers: Annotated[int, typer.Option(help="Worker processes on this machine.")] = 2,
    study: Annotated[str, typer.Option(help="Study name; reuse it to add trials.")] = "sweep",
    storage: Annotated[
        str, typer.Option(help="sqlite:///runs/axon.db, or postgresql://... to share a study.")
    ] = "sqlite:///runs/axon.db",
    data: Annotated[
        str | None, typer.Option(help="An OHLCV CSV/Parquet file (or use --sample).")
    ] = None,
    sample: Annotated[
        str | None, typer.Option(help="A bundled sample name (see `axon-lab datasets`).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Base TPE seed; worker i uses seed + i.")] = 0,
    fees: Annotated[float, typer.Option(help="Fee per fill as a fraction of notional.")] = 0.001,
    objective: Annotated[
        str,
        typer.Option(
            help="sma (a rule on the vectorized engine), rl (RL hyperparameters), loop (the "
            "agent through the OADER loop and risk chain), or package.module:factory."
        ),
    ] = "sma",
    option: Annotated[
        list[str] | None,
        typer.Option(help="An objective option KEY=VALUE (VALUE read as JSON); repeatable."),
    ] = None,
    best_json: Annotated[
        Path | None, typer.Option(help="Write the Pareto-front parameters to this JSON file.")
    ] = None,
) -> None:
    """Tune an objective with Optuna: N workers on one study, walk-forward IS vs OOS."""
    import optuna

    from axon_lab.cli import DEMO_SAMPLE, _echo
    from axon_lab.errors import AxonError
    from axon_lab.hpo import SweepSpec, close_storage, create_study, export_best_params, run_sweep

    if data is None and sample is None:
        sample = DEMO_SAMPLE
    try:
        spec = SweepSpec(
            study=study,
            storage=storage,
            data=data,
            sample=sample,
            seed=seed,
            fees=fees,
            objective=objective,
            options=_parse_options(option or []),
        )
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        result = run_sweep(spec, n_workers=workers, n_trials=trials)
        if best_json is not None:
            handle = create_study(study, storage=storage, directions=result.directions)
            try:
                export_best_params(handle, best_json)
            finally:
                close_storage(handle)
    except AxonError as exc:
        _echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    res = result.results
    _echo(f"study {study!r}: {len(res)} trials in {storage.split('@')[-1]}")
    front = res[res["on_pareto_front"]]
    cols = [c for c in res.columns if c.startswith(("params_", "is_", "oos_"))]
    _echo("Pareto front (in-sample beside walk-forward out-of-sample):")
    _echo(front[["number", *cols]].to_string(index=False))
    if result.overfitting is not None:  # how much of the best result is selection
        _echo(result.overfitting.describe())
    if best_json is not None:
        _echo(f"best parameters: {best_json}")


def _parse_options(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; a VALUE that reads as JSON is that value, else the string."""
    import json

    from axon_lab.errors import ConfigError

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--option {pair!r} is not KEY=VALUE (e.g. --option cash=10000)")
        try:
            out[key.strip()] = json.loads(text)
        except json.JSONDecodeError:
            out[key.strip()] = text
    return out
