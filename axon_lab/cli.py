"""The ``axon-lab`` command line.

- ``axon-lab datasets``: the current main job. Loads every bundled sample offline, validates it with
  the ``repair`` policy and prints rows, time range, timeframe and exactly what was repaired.
- ``axon-lab llm serve``: serves the local SmolLM2 model on an OpenAI-compatible endpoint until
  Ctrl-C (needs the ``local-llm`` extra).
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
llm_app = typer.Typer(help="LLM utilities.", no_args_is_help=True)
app.add_typer(llm_app, name="llm")


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
            typer.echo(
                f"\n== {info.name}: not installed (pip install 'axon-lab[{info.extra}]'); skipped"
            )
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


@llm_app.command("serve")
def llm_serve(
    host: Annotated[str, typer.Option(help="Interface to bind (keep loopback).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    model_path: Annotated[
        str | None, typer.Option(help="A GGUF file; default: SmolLM2-135M-Instruct.")
    ] = None,
    n_threads: Annotated[int, typer.Option(help="CPU threads for inference.")] = 1,
) -> None:
    """Serve the local model (OpenAI-compatible) until Ctrl-C."""
    from axon_lab.errors import AxonError
    from axon_lab.llm.local import LocalLLMServer, serve_local_llm

    def ready(server: LocalLLMServer) -> None:
        typer.echo(f"serving {server.model} at {server.base_url}  (Ctrl-C stops it)")
        typer.echo(f"  export AXON_LLM_BASE_URL={server.base_url} AXON_LLM_MODEL={server.model}")

    try:
        code = serve_local_llm(
            host, port, model_path=model_path, n_threads=n_threads, on_ready=ready
        )
    except AxonError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


def main() -> None:
    """Entry point of the ``axon-lab`` console script."""
    app()
