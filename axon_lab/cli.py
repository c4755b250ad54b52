"""The ``axon-lab`` command line.

- ``axon-lab demo``: the main job. Runs the OADER loop offline on the bundled BTC-USD 15-minute
  sample (rules analyst, full risk chain, fills at the next bar's open), records every step in
  ``runs/axon.db``, writes the explain report to ``runs/<run id>/report.{md,html}`` and prints the
  summary. ``--llm local`` uses the local SmolLM2 model, ``--llm openai`` the ``AXON_LLM_*``
  endpoint; ``--data PATH`` runs on your own CSV/Parquet file.
- ``axon-lab report [RUN_ID]``: rebuilds a recorded run's report (default: the latest run); the
  buy-and-hold baseline needs the run's data: a bundled sample is found by name, a file is only
  read when passed with ``--data`` (a path named in a store is never opened).
- ``axon-lab datasets``: loads every bundled sample offline, validates it with the ``repair``
  policy and prints rows, time range, timeframe and exactly what was repaired.
- ``axon-lab sweep``: tunes an SMA-cross rule with Optuna over walk-forward splits, with
  ``--workers`` processes on one study in ``--storage`` (PostgreSQL shares it between machines);
  prints the Pareto front, in-sample beside out-of-sample.
- ``axon-lab evaluate``: the rules agent against its baselines (buy-and-hold, flat, random of the
  same trade frequency) over walk-forward windows of bundled samples, on every core; writes the
  evaluation report under ``runs/<evaluation id>/``; ``--resume ID`` finishes an interrupted one.
- ``axon-lab data fetch``: downloads closed bars from an exchange through ccxt into the Parquet
  cache under ``data/cache/`` (incremental, deduplicated, validated); the agent's data loader
  then reads them by name, e.g. ``--data binance:BTC/USDT:1h``.
- ``axon-lab paper``: the rules agent on an exchange's live closed bars (ccxt, no key) with
  simulated fills, one step per closed bar, recorded in the explain store; ``axon-lab live``: the
  same with orders sent to the exchange (key from ``AXON_EXCHANGE_API_KEY`` /
  ``AXON_EXCHANGE_SECRET``), only with ``--i-understand-real-money`` and
  ``--max-order-notional``, two-phase unless ``--mode`` says otherwise. Ctrl-C cancels the
  session's open orders unless ``--leave-orders``.
- ``axon-lab llm serve``: serves the local SmolLM2 model on an OpenAI-compatible endpoint until
  Ctrl-C (needs the ``local-llm`` extra).
"""

from __future__ import annotations

import warnings
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from axon_lab.explain import RunReport

__all__ = ["app", "main"]


def _echo(message: str, *, err: bool = False) -> None:
    """Print one message: control characters shown as marks, URL credentials redacted.

    What the CLI prints holds text from data files, stores and models (symbols, run ids, model
    names, error messages); a terminal would obey escape sequences in it.
    """
    from axon_lab._redact import redact_secrets
    from axon_lab._text import printable

    typer.echo(printable(redact_secrets(message)), err=err)


DEMO_SAMPLE = "btc-usd-15m"
DEMO_STEPS = 2_000
LLM_DEMO_STEPS = 5

app = typer.Typer(
    name="axon-lab",
    help="axon_lab: research workbench for LLM and RL trading agents.",
    no_args_is_help=True,
    add_completion=False,
)
llm_app = typer.Typer(help="LLM utilities.", no_args_is_help=True)
app.add_typer(llm_app, name="llm")
data_app = typer.Typer(
    help="Market data: exchange downloads into the local cache.", no_args_is_help=True
)
app.add_typer(data_app, name="data")


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
            _echo(
                f"\n== {info.name}: not installed (pip install 'axon-lab[{info.extra}]'); skipped"
            )
            continue
        with warnings.catch_warnings():
            # The report printed below is the complete account of every repair.
            warnings.simplefilter("ignore", DataRepairWarning)
            frame = load_sample(info.name)
        report = frame.attrs["report"]
        _echo(
            f"\n== {info.name}  ({info.symbol}, {frame.attrs['timeframe']}, "
            f"from {info.package or 'axon_lab generator'}, {info.license})"
        )
        _echo(
            f"   {len(frame):,} bars  {frame.index[0]:%Y-%m-%d %H:%M} -> "
            f"{frame.index[-1]:%Y-%m-%d %H:%M} UTC  close {frame['close'].iloc[0]:,.6g} -> "
            f"{frame['close'].iloc[-1]:,.6g}"
        )
        for line in report.summary(max_items=details).splitlines():
            _echo(f"   {line}")
        shown += 1
    _echo(f"\n{shown} of {len(samples)} bundled datasets loaded.")


def _load(source: str) -> tuple[Any, str, list[str]]:
    """Load data by sample name or path; return the frame, its description and repair notes."""
    from axon_lab.data import DataRepairWarning
    from axon_lab.oader import load_data

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataRepairWarning)
        frame, described = load_data(source)
    notes = [str(w.message).split(". See")[0] for w in caught if w.category is DataRepairWarning]
    for w in caught:
        if w.category is not DataRepairWarning:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return frame, described, notes


def _print_summary(report: RunReport, paths: tuple[Path, Path]) -> None:
    s, b = report.summary, report.baseline or {}

    def pct(value: Any) -> str:
        return "n/a" if value is None or value != value else f"{value:+.2%}"

    def num(value: Any) -> str:
        return "n/a" if value is None or value != value else f"{value:.2f}"

    _echo(f"\nrun {report.run.run_id}  ({report.run.model})")
    _echo(f"  window        {s['start']} -> {s['end']}  ({s['steps']:,} steps)")
    _echo(
        f"  equity        {s['start_value']:,.2f} -> {s['end_value']:,.2f}  "
        f"return {pct(s['total_return'])}  (buy & hold {pct(b.get('total_return'))})"
    )
    _echo(
        f"  sharpe        {num(s['sharpe'])}  (buy & hold {num(b.get('sharpe'))})   "
        f"max drawdown {pct(s['max_drawdown'])}  (buy & hold {pct(b.get('max_drawdown'))})"
    )
    _echo(
        f"  activity      {s['orders']} orders, {s['fills']} fills, {s['closed_trades']} closed "
        f"trades, fees {s['fees']:,.2f}"
    )
    rejections = ", ".join(f"{r}={n}" for r, n in report.rejections.items()) or "none"
    _echo(f"  rejections    {s['rejections']} ({rejections})")
    _echo(
        f"  llm           {s['llm_calls']} calls, {s['cache_hits']} cache hits, "
        f"cost {s['llm_cost']:.4f}; {s['abstentions']} abstentions, "
        f"{s['failed_steps']} failed steps"
    )
    _echo(f"  report        {paths[1]}  (and {paths[0].name})")


def _llm_client(kind: str, stack: ExitStack, out: Path) -> Any:
    from axon_lab.llm import CachedClient, CostLedger, MeteredClient, SQLCacheStore

    if kind == "local":
        from axon_lab.llm.local import local_llm_server

        _echo("starting the local model server (SmolLM2-135M) ...")
        server = stack.enter_context(local_llm_server())
        inner = server.client()
    elif kind == "openai":
        from axon_lab.llm import OpenAICompatClient

        inner = OpenAICompatClient()
    else:
        raise typer.BadParameter(f"--llm must be none, local or openai, got {kind!r}")
    cache = SQLCacheStore(f"sqlite:///{out / 'llm_cache.db'}")
    # the meter sits inside the cache: replayed answers are neither charged nor budgeted
    return CachedClient(MeteredClient(inner, CostLedger()), mode="record", store=cache)


@app.command()
def demo(
    steps: Annotated[
        int | None,
        typer.Option(
            help=f"Steps to run (default {DEMO_STEPS:,}; {LLM_DEMO_STEPS} with --llm).", min=1
        ),
    ] = None,
    every: Annotated[int, typer.Option(help="Decide every N bars.", min=1)] = 1,
    llm: Annotated[
        str, typer.Option(help="none (rules analyst), local (SmolLM2) or openai (AXON_LLM_*).")
    ] = "none",
    data: Annotated[
        str | None, typer.Option(help=f"A CSV/Parquet file or sample name (default {DEMO_SAMPLE}).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the store and the reports.")] = Path("runs"),
    run_id: Annotated[str | None, typer.Option(help="Run id (default: generated).")] = None,
    cash: Annotated[float, typer.Option(help="Starting cash.", min=1.0)] = 100_000.0,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Run the OADER loop offline on bundled data and write the explain report."""
    from axon_lab.errors import AxonError
    from axon_lab.explain import check_run_id, run_folder
    from axon_lab.oader import make_agent

    try:
        if run_id is not None:
            check_run_id(run_id)  # before any work: the id becomes the report's folder name
        frame, described, notes = _load(data or DEMO_SAMPLE)
        _echo(
            f"data: {described}  ({frame.attrs.get('symbol')}, {frame.attrs.get('timeframe')}, "
            f"{len(frame):,} bars)"
        )
        for note in notes:
            _echo(f"  note: {note}")
        out.mkdir(parents=True, exist_ok=True)
        with ExitStack() as stack:
            analyst: Any = "rules"
            n = steps or DEMO_STEPS
            if llm != "none":
                analyst = _llm_client(llm, stack, out)
                n = steps or LLM_DEMO_STEPS
            loop = make_agent(
                frame,
                analyst=analyst,
                cash=cash,
                store=f"sqlite:///{out / 'axon.db'}",
                run_id=run_id,
                every=every,
                progress=progress,
                on_error="stop" if llm == "none" else "abstain",
                llm_params={"temperature": 0.0, "max_tokens": 300} if llm != "none" else None,
                max_iterations=1 if llm == "local" else 3,
                config={"data": described},
            )
            stack.callback(loop.close)
            _echo(
                f"run {loop.run_id}: {n:,} steps of {loop.config['analyst']}, risk chain on, "
                f"fills at the next bar's open, store {loop.store.url}"
            )
            loop.run(n)
            report = loop.report()
            paths = report.save(run_folder(out, loop.run_id))
        _print_summary(report, paths)
    except AxonError as exc:
        _echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def report(
    run_id: Annotated[str | None, typer.Argument(help="The run (default: the latest).")] = None,
    store: Annotated[str, typer.Option(help="The explain store URL.")] = "sqlite:///runs/axon.db",
    out: Annotated[Path, typer.Option(help="Folder the report goes under.")] = Path("runs"),
    data: Annotated[
        str | None,
        typer.Option(
            help="The run's data file, for the buy-and-hold baseline (checked against the run's "
            "data fingerprint). A bundled sample is found without it."
        ),
    ] = None,
) -> None:
    """Rebuild a recorded run's explain report (Markdown + HTML) and print its summary."""
    from axon_lab.errors import AxonError
    from axon_lab.explain import ExplainStore, build_report, run_folder

    try:
        with ExplainStore(store) as the_store:
            runs = the_store.runs()
            if not runs:
                _echo(f"error: no runs in {the_store.url}; run `axon-lab demo` first", err=True)
                raise typer.Exit(2)
            info = the_store.get_run(run_id) if run_id else runs[-1]
            folder = run_folder(out, info.run_id)  # a stored id is checked before it is a path
            view = _report_view(info, data)
            the_report = build_report(the_store, info.run_id, view=view)
        paths = the_report.save(folder)
        _print_summary(the_report, paths)
    except AxonError as exc:
        _echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _report_view(info: Any, data: str | None) -> Any:
    """The run's market data for its report's baseline, or None.

    A store is data, not instructions: the path its config names is never opened. A bundled sample
    is loaded by name; a file only when the user names it (``--data``), and then it must be the
    data the run saw.
    """
    from axon_lab.data import MarketView, list_samples
    from axon_lab.errors import ConfigError
    from axon_lab.oader import data_fingerprint

    source = str(info.config.get("data", ""))
    kind, _, name = source.partition(":")
    if data is None:
        if kind == "sample" and name in {s.name for s in list_samples()}:
            frame, _, _ = _load(name)
            return MarketView(frame)
        if kind == "file":
            _echo(
                f"note: the run read {name!r}; pass --data with that file to add the buy-and-hold "
                "baseline (a path named by a store is not opened)."
            )
        return None
    frame, _, _ = _load(data)
    view = MarketView(frame)
    if data_fingerprint(view) != info.data_fingerprint:
        raise ConfigError(
            f"--data {data!r} is not the data run {info.run_id!r} saw (fingerprint "
            f"{data_fingerprint(view)[:19]}... vs {info.data_fingerprint[:19]}...); pass the "
            "run's own data file, or leave --data out to report without the baseline."
        )
    return view


# ---------------------------------------------------------------- sweep (issue 7)
from axon_lab._cli_sweep import sweep  # noqa: E402

app.command()(sweep)


@data_app.command("fetch")
def data_fetch(
    exchange: Annotated[str, typer.Option(help="The ccxt exchange id.")] = "binance",
    symbol: Annotated[str, typer.Option(help="The exchange's symbol.")] = "BTC/USDT",
    timeframe: Annotated[str, typer.Option(help="Bar length, e.g. 1m, 1h, 1d.")] = "1h",
    since: Annotated[str, typer.Option(help="First bar wanted (UTC date).")] = "2022-01-01",
    until: Annotated[str | None, typer.Option(help="Bars opening before this date.")] = None,
    url: Annotated[
        str | None, typer.Option(help="Base URL replacing the exchange's (a local exchange).")
    ] = None,
    cache: Annotated[
        str | None, typer.Option(help="Cache folder (default: $AXON_DATA_CACHE or data/cache).")
    ] = None,
    page: Annotated[int, typer.Option(help="Bars per request.")] = 1000,
) -> None:
    """Download closed bars into the Parquet cache; a rerun fetches only what is missing."""
    from axon_lab.data.download import fetch_ohlcv, load_cached
    from axon_lab.errors import AxonError

    try:
        path = fetch_ohlcv(
            exchange, symbol, timeframe, since, until=until, root=cache, url=url, page=page
        )
        frame = load_cached(exchange, symbol, timeframe, root=cache)
    except AxonError as exc:
        _echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    _echo(
        f"{exchange} {symbol} {timeframe}: {len(frame)} bars, {frame.index[0]} to "
        f"{frame.index[-1]} in {path}"
    )
    _echo(f"  load it by name: {exchange}:{symbol}:{timeframe}")


# `paper` and `live` live in their own module (this one would pass 600 lines)
from axon_lab._cli_live import live, paper  # noqa: E402

app.command()(paper)
app.command()(live)


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
        _echo(f"serving {server.model} at {server.base_url}  (Ctrl-C stops it)")
        _echo(f"  export AXON_LLM_BASE_URL={server.base_url} AXON_LLM_MODEL={server.model}")

    try:
        code = serve_local_llm(
            host, port, model_path=model_path, n_threads=n_threads, on_ready=ready
        )
    except AxonError as exc:
        _echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


@app.command()
def audit(
    run_id: Annotated[str, typer.Argument(help="The recorded run to audit.")],
    store: Annotated[str, typer.Option(help="The explain store URL.")] = "sqlite:///runs/axon.db",
    out: Annotated[Path, typer.Option(help="Folder the results and report go under.")] = Path(
        "runs"
    ),
    data: Annotated[
        str | None,
        typer.Option(
            help="The run's data file (checked against its fingerprint), if not a sample."
        ),
    ] = None,
    llm: Annotated[
        str, typer.Option(help="For an LLM run: the model to re-run it with (local | openai).")
    ] = "none",
    samples: Annotated[int, typer.Option(help="Samples per step for decision stability.")] = 5,
    steps: Annotated[int, typer.Option(help="Steps re-sampled for decision stability.")] = 5,
    times: Annotated[int, typer.Option(help="Decision times of the look-ahead check.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of every audit.")] = 0,
) -> None:
    """Audit a recorded run: look-ahead, sensitivity, anonymised re-run, decision stability.

    Writes ``<out>/<run id>/audit.json`` and regenerates the run's report with an Audits section.
    """
    from axon_lab.audit import audit_lines, run_audit, save_audit
    from axon_lab.errors import AxonError
    from axon_lab.explain import ExplainStore, build_report, run_folder

    try:
        with ExitStack() as stack:
            the_store = stack.enter_context(ExplainStore(store))
            info = the_store.get_run(run_id)
            folder = run_folder(out, info.run_id)
            view = _report_view(info, data)
            frame = None if view is None else view.as_of(view.end)
            client = None if llm == "none" else _llm_client(llm, stack, out)
            results = run_audit(
                the_store,
                info.run_id,
                data=frame,
                analyst=client,
                n_times=times,
                n_steps=steps,
                n_samples=samples,
                seed=seed,
            )
            path = save_audit(results, folder)
            the_report = build_report(the_store, info.run_id, view=view, audit=results)
        paths = the_report.save(folder)
    except AxonError as exc:
        _echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for line in audit_lines(results, info.run_id):
        _echo(f"- {line}")
    _echo(f"audit results  {path}")
    _echo(f"report         {paths[1]}  (and {paths[0].name})")


# ---------------------------------------------------------------- evaluate (issue 18)
@app.command()
def evaluate(
    data: Annotated[
        list[str] | None,
        typer.Option(help="Samples or OHLCV files, one symbol each (repeat the option)."),
    ] = None,
    windows: Annotated[int, typer.Option(help="Walk-forward windows per symbol.")] = 4,
    window_bars: Annotated[int, typer.Option(help="Decision bars per window.")] = 60,
    warmup: Annotated[int, typer.Option(help="Bars the analyst reads before a window.")] = 60,
    random_draws: Annotated[int, typer.Option(help="Draws of the random baseline.")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the random baseline and bootstrap.")] = 0,
    workers: Annotated[int | None, typer.Option(help="Processes (default: every core).")] = None,
    store: Annotated[str, typer.Option(help="The explain store URL.")] = "sqlite:///runs/axon.db",
    out: Annotated[Path, typer.Option(help="Folder the report goes under.")] = Path("runs"),
    resume: Annotated[
        str | None, typer.Option(help="Resume this evaluation id (finished runs are skipped).")
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option(
            help="Dask scheduler address (tcp://host:8786): run every window on its workers; "
            "give a --store they all reach (postgresql://...)."
        ),
    ] = None,
) -> None:
    """The rules agent against its baselines over walk-forward windows; writes the report."""
    from axon_lab.errors import AxonError
    from axon_lab.evaluate import AgentSpec, build_evaluation_report
    from axon_lab.evaluate import evaluate as run_evaluation

    sources = data or ["btc-usd-1d", "aapl-1d"]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = run_evaluation(
                AgentSpec(name="rules"),
                sources,
                n_windows=windows,
                test=window_bars,
                warmup=warmup,
                n_random=random_draws,
                seed=seed,
                store=store,
                evaluation_id=resume,
                workers=workers,
                cluster=cluster,
            )
        for warning in caught:
            typer.echo(f"note: {str(warning.message).splitlines()[0]}", err=True)
        report = build_evaluation_report(result)
        paths = report.save(out / result.evaluation_id)
    except AxonError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"evaluation {result.evaluation_id}: {len(result.windows)} windows")
    for comparison in report.summary.comparisons:
        typer.echo(f"  {comparison.verdict}")
    typer.echo(f"report: {paths[0]}  {paths[1]}")
    typer.echo(f"resume or rebuild: axon-lab evaluate --resume {result.evaluation_id}")


def main() -> None:
    """Entry point of the ``axon-lab`` console script."""
    app()
