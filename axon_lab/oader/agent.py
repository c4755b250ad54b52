"""make_agent: wire data, analyst, decision rules, risk chain, backend and store into a loop.

Defaults are for a backtest that runs offline: the :class:`~axon_lab.oader.RulesAnalyst`, a
:class:`~axon_lab.backends.SimTradingBackend` (decide on a bar's close, fill at the next bar's open)
on a :class:`~axon_lab.clock.SimulatedClock`, the full risk chain (limits scaled to the starting
cash, a rejection circuit breaker and a drawdown breaker that only lets positions shrink), and an
SQLite explain store under ``./runs``. The run's config, a fingerprint of the data, the model (and
its training cutoff, when known) and the code version are recorded with the run.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from axon_lab.backends.protocol import TradingBackend
from axon_lab.clock import SimulatedClock
from axon_lab.data.documents import DocumentFeed
from axon_lab.data.frame import OHLCV_COLUMNS
from axon_lab.data.view import MarketView
from axon_lab.errors import ConfigError
from axon_lab.llm import DEFAULT_MIN_CONFIDENCE, LLMClient
from axon_lab.records import Analysis, Decision, Instrument, Observation
from axon_lab.risk import (
    ConfirmationPolicy,
    ConfirmationQueue,
    GateState,
    PnLCircuitBreaker,
    RejectionCircuitBreaker,
    RiskGate,
    RiskLimits,
    TwoPhaseMode,
    WaitForPerson,
)
from axon_lab.risk.safety import ModeName, SafetyMode
from axon_lab.tools.factory import make_trading_tools

from ._extras import observe_extras
from .callbacks import BaseLoopCallback, CallbackLike
from .config import describe_agent
from .decide import DecisionEngine, DecisionMode
from .execute import ToolExecutor
from .loop import OADERLoop, OnError
from .observe import ContextBuilder
from .orchestrator import MultiModelOrchestrator, Role
from .react import ReActAnalyzer
from .record import ExplainRecorder
from .rules_analyst import RulesAnalyst
from .stages import bars_needed

if TYPE_CHECKING:
    from axon_lab.explain import ExplainStore
    from axon_lab.forecast import Forecasts
    from axon_lab.memory import Memory

__all__ = ["data_fingerprint", "default_gates", "default_limits", "load_data", "make_agent"]


def data_fingerprint(view: MarketView) -> str:
    """``sha256:<hex>`` over every symbol's bar times and OHLCV bytes (float64), in order.

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> a = MarketView(make_synthetic(50, timeframe="1h", seed=1, symbol="S"))
        >>> data_fingerprint(a) == data_fingerprint(a), data_fingerprint(a)[:7]
        (True, 'sha256:')
    """
    digest = hashlib.sha256()
    for symbol in view.symbols:
        frame = view.as_of(view.end, symbol)
        digest.update(symbol.encode())
        digest.update(view.timeframe.label.encode())
        digest.update(np.ascontiguousarray(pd.DatetimeIndex(frame.index).asi8).tobytes())
        values = frame[list(OHLCV_COLUMNS)].to_numpy(dtype=np.float64)
        digest.update(np.ascontiguousarray(values).tobytes())
    return "sha256:" + digest.hexdigest()


def load_data(source: str | Path) -> tuple[pd.DataFrame, str]:
    """Load a bundled sample or a cached download by name, else a file; return it and a description.

    Raises:
        DataError: If the file cannot be loaded or fails validation.
    """
    from axon_lab.data import list_samples, load_ohlcv, load_sample

    text = str(source)
    if text in {s.name for s in list_samples()}:
        return load_sample(text), f"sample:{text}"
    from axon_lab.data.download import cached_path

    cached = cached_path(text)  # an exchange download: "binance:BTC/USDT:1h"
    if cached is not None:
        _, symbol, timeframe = text.split(":")
        return load_ohlcv(cached, symbol=symbol, timeframe=timeframe), f"cache:{text}"
    path = Path(text).expanduser()
    if not path.exists():
        names = ", ".join(s.name for s in list_samples())
        raise ConfigError(f"{text!r} is neither a file nor a bundled sample ({names})")
    return load_ohlcv(path), f"file:{path.resolve()}"


def default_limits(cash: float) -> RiskLimits:
    """Limits scaled to the starting cash: orders up to half of it, positions up to all of it."""
    return RiskLimits(
        max_order_notional=0.5 * cash, max_position_value=1.0 * cash, max_daily_orders=100
    )


def default_gates() -> list[RiskGate]:
    """A rejection breaker (5 in a day halt for a day) and a 25 % drawdown breaker (reduce-only)."""
    return [
        RejectionCircuitBreaker(
            max_rejections=5, window=timedelta(days=1), cooldown=timedelta(days=1)
        ),
        PnLCircuitBreaker(max_drawdown=0.25, trip_to=GateState.REDUCING),
    ]


def _view(data: pd.DataFrame | MarketView | str | Path) -> tuple[MarketView, str]:
    if isinstance(data, MarketView):
        return data, "view"
    if isinstance(data, pd.DataFrame):
        return MarketView(data), f"frame:{data.attrs.get('symbol', '?')}"
    if isinstance(data, str | Path):
        frame, source = load_data(data)
        return MarketView(frame), source
    raise ConfigError(
        f"data must be a canonical OHLCV frame, a MarketView, a sample name or a file path, got "
        f"{type(data).__name__}"
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, frozenset | set):
        return sorted(value)
    return value


def make_agent(
    data: pd.DataFrame | MarketView | str | Path,
    *,
    analyst: str | LLMClient | Any = "rules",
    backend: TradingBackend | None = None,
    cash: float = 100_000.0,
    fee_rate: float = 0.001,
    limits: RiskLimits | None = None,
    gates: Sequence[RiskGate] | None = None,
    mode: ModeName | SafetyMode = "direct",
    decision_mode: DecisionMode = "direct",
    decide: Callable[[Analysis, Observation], Decision] | None = None,
    risk_fraction: float = 0.01,
    stop_atr: float = 2.0,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    brackets: bool = True,
    long_only: bool = True,
    store: str | ExplainStore | None = None,
    run_id: str | None = None,
    resume: bool = False,
    every: int = 1,
    start: datetime | str | None = None,
    lookback: int = 20,
    on_error: OnError = "stop",
    progress: bool = True,
    callbacks: CallbackLike = None,
    model_cutoff: date | None = None,
    max_iterations: int = 3,
    llm_params: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    live_interval: timedelta | None = None,
    instruments: Mapping[str, Instrument] | None = None,
    cancel_on_halt: bool = False,
    confirm: ConfirmationPolicy | None = None,
    confirm_above: float = 0.0,
    rl_hint: Any = None,
    documents: DocumentFeed | str | Path | None = None,
    roles: Sequence[Role] | None = None,
    forecasts: Forecasts | None = None,
    memory: Memory | None = None,
    vol_target: float | None = None,
) -> OADERLoop:
    r"""Build a ready-to-run :class:`~axon_lab.oader.OADERLoop` with sane defaults.

    Args:
        data: A canonical OHLCV frame, a :class:`~axon_lab.data.MarketView`, a bundled sample name
            (``"btc-usd-15m"``) or a CSV/Parquet path.
        analyst: ``"rules"`` (the offline default), an :class:`~axon_lab.llm.LLMClient` (wrapped
            in a :class:`~axon_lab.oader.ReActAnalyzer`), or any Analyze stage callable.
        backend: Where orders go (default: a :class:`~axon_lab.backends.SimTradingBackend` on a
            simulated clock). A backend on a wall clock makes a live loop.
        cash: Starting cash of the default backend (and the scale of the default limits).
        fee_rate: Fee rate of the default backend.
        limits: Risk limits (default: :func:`default_limits`; pass ``RiskLimits()`` for none).
        gates: Risk gates (default: :func:`default_gates`).
        mode: Safety mode: ``"direct"``, ``"dry_run"`` or ``"two_phase"``.
        decision_mode: ``"direct"`` (follow the analysis's action) or ``"rules"``.
        decide: A Decide stage ``(analysis, observation) -> Decision`` replacing the default
            :class:`~axon_lab.oader.DecisionEngine` (e.g. ``RLFallback.decide``, which labels the
            RL policy's decisions ``source=fallback``); ``decision_mode``, ``risk_fraction``,
            ``stop_atr``, ``min_confidence`` and ``long_only`` configure only the default engine.
        risk_fraction: Fraction of equity risked per entry (see
            :class:`~axon_lab.oader.DecisionEngine`).
        stop_atr: Stop distance in ATRs.
        min_confidence: Under this confidence an analysis holds (the Decide stage's threshold).
        brackets: Attach stop-loss and take-profit levels to entries (False for a venue that
            takes no bracket orders, such as the exchange backend).
        long_only: Forbid shorts.
        store: An explain store or its URL (default ``sqlite:///runs/axon.db``).
        run_id: The run's id (default: generated).
        resume: Continue the existing run ``run_id`` (its steps are re-run and checked, then the
            loop carries on; see :meth:`OADERLoop.fast_forward`).
        every: Decide every ``every`` bars.
        start: Skip decision times before this.
        lookback: Bars per observation (at least what a :class:`RulesAnalyst` reads).
        on_error: ``"stop"`` or ``"abstain"`` when a stage raises.
        progress: Show a progress bar when running.
        callbacks: Loop callbacks or plain functions of the step record.
        model_cutoff: The LLM's training cutoff, if known (recorded with the run).
        max_iterations: ReAct tool turns for an LLM analyst.
        llm_params: Extra ``complete`` parameters for an LLM analyst (e.g. ``temperature``).
        config: Extra entries for the recorded run config.
        live_interval: With a wall-clock backend, the wait between steps (default: ``every``
            bars of the data's timeframe).
        instruments: What the venue accepts per symbol (tick, lot, minimums, fees), used by the
            risk limits, the default backend and Decide (default:
            :func:`~axon_lab.data.default_instrument` of the symbol, with ``fee_rate``).
        cancel_on_halt: Cancel every open order when a gate is found HALTED at a step's mark.
        confirm: Who answers orders pending two-phase confirmation
            (:class:`~axon_lab.risk.AutoConfirmBelow`, :class:`~axon_lab.risk.AskCallable`,
            :class:`~axon_lab.risk.WaitForPerson`). Required for a two-phase backtest (a
            backtest never confirms silently); a live two-phase loop waits for a person.
        confirm_above: The two-phase threshold notional (0: every order needs confirmation).
        rl_hint: A trained RL policy (``TrainedPolicy`` or :class:`~axon_lab.rl.RLPolicy`)
            whose action, confidence and value estimate go into every observation and the LLM's
            prompt (:class:`~axon_lab.oader.RLHintStage`).
        documents: Time-stamped documents (a :class:`~axon_lab.data.DocumentFeed`, a
            JSONL/CSV/Parquet path, or ``DocumentsStage(None, feed, token_budget=...)`` for
            other limits) served point-in-time into every observation and prompt
            (:class:`~axon_lab.oader.DocumentsStage`).
        roles: Several roles in the Analyze stage (a
            :class:`~axon_lab.oader.MultiModelOrchestrator` of these
            :class:`~axon_lab.oader.Role` values); replaces ``analyst``.
        forecasts: Walk-forward volatility and direction forecasts
            (:class:`~axon_lab.forecast.Forecasts`) added to the observation's features (the
            prompt, the rules analyst and ``vol_target`` sizing read them).
        memory: A retrieval memory (:class:`~axon_lab.memory.Memory`) that fills the
            observation's ``similar_contexts``; kept beside a SQLite file store
            (``<store dir>/memory/<name>.npz``) unless it has its own directory, and saved when
            a run ends.
        vol_target: Size entries so that the position's forecast volatility over the forecast
            horizon is this fraction of equity (needs ``forecasts``; see
            :class:`~axon_lab.oader.DecisionEngine`).

    Returns:
        The loop; ``loop.store``, ``loop.tools``, ``loop.view`` and ``loop.config`` are attached.

    Raises:
        ConfigError: For inconsistent arguments, or when resuming on different data.

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> loop = make_agent(make_synthetic(200, timeframe="1h", seed=5, symbol="SYN"),
        ...                   store="sqlite://", run_id="quick", progress=False)
        >>> loop.run(100).last_record.step
        99
        >>> info = loop.store.get_run("quick")
        >>> info.model, info.model_cutoff, info.data_fingerprint[:7]
        ('rules:sma10/30-rsi14-atr14', None, 'sha256:')
        >>> loop.close()
    """
    from axon_lab.explain import DEFAULT_URL, ExplainStore, check_run_id

    if run_id is not None:
        check_run_id(run_id)  # it becomes a folder name (reports); refuse it before any work
    start_at = _start_time(start)
    view, source = _view(data)
    if len(view.symbols) != 1:
        raise ConfigError(
            f"make_agent trades one symbol; the view holds {list(view.symbols)}. Build the stages "
            "by hand for several."
        )
    symbol = view.symbols[0]
    instruments = _instruments(view, symbol, instruments, fee_rate)
    backend_given = backend is not None
    if backend is None:
        begin = view.start if start_at is None else start_at
        clock = SimulatedClock(begin.to_pydatetime())
        # The backtest backend: the vectorized engine's fill kernel stepped between decisions.
        from axon_lab.backends.sim import SimTradingBackend

        backend = SimTradingBackend(
            view, cash=cash, fees=fee_rate, clock=clock, instruments=instruments
        )
    clock_ = backend.clock
    two_phase = mode == "two_phase" or isinstance(mode, TwoPhaseMode)
    if two_phase and confirm is None:
        if isinstance(clock_, SimulatedClock):
            raise ConfigError(
                "mode='two_phase' in a backtest needs a stated confirmation policy: pass "
                "confirm=AutoConfirmBelow(notional), AskCallable(fn) or WaitForPerson() (from "
                "axon_lab.risk); a backtest never confirms orders silently"
            )
        confirm = WaitForPerson()
    confirmations = ConfirmationQueue(confirm) if confirm is not None else None
    if vol_target is not None and forecasts is None:
        raise ConfigError(
            f"vol_target={vol_target!r} sizes by the forecast volatility: pass "
            "forecasts=Forecasts(...) (from axon_lab.forecast) too"
        )
    limits = limits if limits is not None else default_limits(cash)
    gates = list(gates) if gates is not None else default_gates()
    owns_store = not isinstance(store, ExplainStore)
    the_store = store if isinstance(store, ExplainStore) else ExplainStore(store or DEFAULT_URL)
    if run_id is None:
        if resume:
            raise ConfigError("resume=True needs the run_id of the run to continue")
        run_id = f"run-{pd.Timestamp.now('UTC'):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    fingerprint = data_fingerprint(view)
    try:
        if resume:
            info = the_store.get_run(run_id)
            if info.data_fingerprint != fingerprint:
                raise ConfigError(
                    f"run {run_id!r} was recorded on data {info.data_fingerprint[:19]}..., not "
                    f"on this data ({fingerprint[:19]}...); resume it on the same data"
                )
        tools = make_trading_tools(
            backend,
            limits=limits,
            mode=mode,
            gates=gates,
            clock=clock_,
            id_prefix=run_id,
            view=view,
            instruments=instruments,
            cancel_on_halt=cancel_on_halt,
            confirm_above=confirm_above,
        )
        if roles is not None:
            if analyst != "rules":
                raise ConfigError("pass either analyst=... or roles=[...], not both")
            analyze: Any = MultiModelOrchestrator(roles, symbol=symbol)
            model = analyze.name
        elif analyst == "rules":
            analyze = RulesAnalyst(symbol=symbol)
            model = analyze.name
        elif isinstance(analyst, str):
            raise ConfigError(
                f"analyst must be 'rules', an LLM client or an analyze callable, got {analyst!r}"
            )
        elif isinstance(analyst, LLMClient):
            analyze = ReActAnalyzer(
                analyst, tools, max_iterations=max_iterations, **dict(llm_params or {})
            )
            model = analyst.model
        elif callable(analyst):
            analyze = analyst
            model = str(getattr(analyst, "name", None) or getattr(analyst, "__name__", "custom"))
        else:
            raise ConfigError(f"analyst {analyst!r} is neither 'rules', an LLM client nor callable")
        with_extras, extras, extra_custom = observe_extras(
            view, rl_hint=rl_hint, documents=documents
        )
        if roles is not None:
            extras["roles"] = analyze.describe()
            extra_custom.append(f"the roles {model!r}")
        run_config: dict[str, Any] = {
            "data": source,
            "symbol": symbol,
            "timeframe": view.timeframe.label,
            "bars": len(view.as_of(view.end, symbol)),
            "every": every,
            "start": None if start_at is None else start_at.isoformat(),
            "analyst": model,
            "decision_mode": decision_mode,
            "decide": "DecisionEngine" if decide is None else _stage_name(decide),
            "safety_mode": mode if isinstance(mode, str) else type(mode).__name__,
            "limits": {k: _jsonable(v) for k, v in limits.model_dump().items()},
            "gates": [repr(g) for g in gates],
            "backend": type(backend).__name__,
            "cash": cash,
            "fee_rate": fee_rate,
            "risk_fraction": risk_fraction,
            "stop_atr": stop_atr,
            "min_confidence": min_confidence,
            "brackets": brackets,
            "long_only": long_only,
            "lookback": lookback,
            "on_error": on_error,
            "instruments": {k: v.to_dict() for k, v in instruments.items()},
            "cancel_on_halt": cancel_on_halt,
            "confirm": None if confirm is None else repr(confirm),
            "confirm_above": confirm_above,
            **extras,
            **_extras(forecasts, memory, vol_target, the_store),
            **dict(config or {}),
        }
        custom = [f"the backend {type(backend).__name__}"] if backend_given else []
        custom += extra_custom
        if decide is not None:
            custom.append(f"the Decide stage {_stage_name(decide)}")
        if memory is not None:  # its state at the start is the file's, which the run rewrote
            custom.append(f"the memory {memory!r}")
        run_config["agent"] = describe_agent(
            source=source,
            fingerprint=fingerprint,
            symbol=symbol,
            timeframe=view.timeframe.label,
            analyst=analyst,
            model=model,
            settings={
                "max_iterations": max_iterations,
                "llm_params": dict(llm_params or {}),
                "cash": cash,
                "fee_rate": fee_rate,
                "limits": limits,
                "confirm_above": confirm_above,
                "decision_mode": decision_mode,
                "risk_fraction": risk_fraction,
                "stop_atr": stop_atr,
                "min_confidence": min_confidence,
                "brackets": brackets,
                "long_only": long_only,
                "every": every,
                "start": None if start_at is None else start_at.isoformat(),
                "lookback": lookback,
                "on_error": on_error,
                "instruments": instruments,
                "cancel_on_halt": cancel_on_halt,
                "model_cutoff": model_cutoff,
                "forecasts": None if forecasts is None else forecasts.spec(),
                "vol_target": vol_target,
            },
            gates=gates,
            mode=mode,
            confirm=confirm,
            custom=custom,
        ).model_dump(mode="json")
        if not resume:
            the_store.create_run(
                run_config,
                run_id=run_id,
                data_fingerprint=fingerprint,
                model=model,
                model_cutoff=model_cutoff,
            )
        recorder = ExplainRecorder(the_store, run_id)
        recorded = the_store.steps(run_id) if resume else []
        if resume:
            recorder.rewind()
        if memory is not None:
            from axon_lab.memory import MemoryCallback

            callbacks = [MemoryCallback(memory), *_callback_items(callbacks)]
        loop = OADERLoop(
            with_extras(
                ContextBuilder(
                    view,
                    backend,
                    state=recorder.strategy_state,
                    # an analyst that reads its bars from the observation (the rules analyst,
                    # roles holding it) says how many it needs: give it at least that many
                    lookback=max(lookback, bars_needed(analyze)),
                    forecasts=forecasts,
                    memory=memory,
                ),
            ),
            analyze,
            decide
            or DecisionEngine(
                mode=decision_mode,
                symbol=symbol,
                risk_fraction=risk_fraction,
                stop_atr=stop_atr,
                min_confidence=min_confidence,
                brackets=brackets,
                limits=limits,
                long_only=long_only,
                fee_rate=fee_rate,
                instrument=instruments.get(symbol),
                vol_target=vol_target,
            ),
            ToolExecutor(tools, confirmations=confirmations),
            recorder,
            backend,
            clock_,
            run_id=run_id,
            view=view,
            every=every,
            start=None if start_at is None else start_at.to_pydatetime(),
            on_error=on_error,
            progress=progress,
            callbacks=callbacks,
            live_interval=live_interval,
            risk=tools.chain,
        )
        loop.store = the_store
        loop.tools = tools
        loop.config = {**run_config, "run_id": run_id}
        if recorded:
            loop.fast_forward(recorded)
        return loop
    except BaseException:
        if owns_store:
            the_store.close()
        raise


def _callback_items(callbacks: CallbackLike) -> list[Any]:
    if callbacks is None:
        return []
    if callable(callbacks) or isinstance(callbacks, BaseLoopCallback):
        return [callbacks]
    return list(callbacks)


def _extras(
    forecasts: Forecasts | None,
    memory: Memory | None,
    vol_target: float | None,
    store: ExplainStore,
) -> dict[str, Any]:
    """The run-config entries of the optional Observe parts (and place the memory's file)."""
    out: dict[str, Any] = {}
    if forecasts is not None:
        out["forecasts"] = forecasts.describe()
    if vol_target is not None:
        out["vol_target"] = vol_target
    if memory is not None:
        if memory.directory is None:
            from sqlalchemy.engine import make_url

            url = make_url(store.url)
            db = url.database or ""
            if url.drivername.startswith("sqlite") and db and db != ":memory:":
                memory.attach(Path(db).parent / "memory")
        out["memory"] = memory.describe()
    return out


def _instruments(
    view: MarketView, symbol: str, given: Mapping[str, Instrument] | None, fee_rate: float
) -> dict[str, Instrument]:
    if given is not None:
        out = dict(given)
        for key, instrument in out.items():
            if not isinstance(instrument, Instrument) or instrument.symbol != key:
                raise ConfigError(
                    f"instruments[{key!r}] must be an Instrument for {key!r}, got {instrument!r}"
                )
        return out
    from axon_lab.data import default_instrument

    frame = view.as_of(view.end, symbol)
    return {symbol: default_instrument(symbol, frame, fee_rate=fee_rate)}


def _start_time(start: datetime | str | None) -> pd.Timestamp | None:
    """``start`` as a UTC timestamp (naive means UTC), or a ConfigError naming the fix."""
    if start is None:
        return None
    if not isinstance(start, datetime | str | date):
        raise ConfigError(
            f"start must be a datetime or an ISO date string such as '2024-01-01', got "
            f"{type(start).__name__} {start!r}"
        )
    try:
        stamp = pd.Timestamp(start)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ConfigError(
            f"start={start!r} is not a date axon_lab can read ({exc}); pass a datetime or an ISO "
            "string such as '2024-01-01' or '2024-01-01T09:30:00+00:00'"
        ) from None
    if pd.isna(stamp):
        raise ConfigError(f"start={start!r} is not a date; pass e.g. '2024-01-01'")
    return stamp if stamp.tzinfo is not None else stamp.tz_localize("UTC")


def _stage_name(stage: object) -> str:
    owner = getattr(stage, "__self__", None)  # a bound method names its object's class
    if owner is not None:
        return f"{type(owner).__name__}.{getattr(stage, '__name__', 'decide')}"
    return getattr(stage, "__qualname__", type(stage).__name__)
