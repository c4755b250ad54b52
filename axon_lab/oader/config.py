"""AgentConfig: everything that shaped a run, in one record stored with it, and the way back.

:func:`~axon_lab.oader.make_agent` records an :class:`AgentConfig` with every run (the run
config's ``"agent"`` entry): the data's source and fingerprint, the analyst (rules, or the LLM's
model, endpoint, sampling parameters and tool turns), the Decide settings, the limits, each gate
with its settings, the safety mode and its confirmation policy, the instruments, the schedule
and the code version. :func:`rebuild_agent` reads it back and builds the same agent; run against
the run's LLM cache in replay mode it records the same steps again.

A part that cannot be written down (a custom Decide callable, a backend object, an
``AskCallable``) is named in ``not_rebuildable``; :func:`rebuild_agent` refuses such a run and
says which part to pass by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from axon_lab.errors import ConfigError
from axon_lab.llm import DEFAULT_MIN_CONFIDENCE
from axon_lab.records import DefenceLine, GateState, Instrument, Record
from axon_lab.risk import (
    AlwaysOpenGate,
    AutoConfirmBelow,
    KillSwitch,
    PnLCircuitBreaker,
    RejectionCircuitBreaker,
    RiskGate,
    RiskLimits,
    WaitForPerson,
)

if TYPE_CHECKING:
    from axon_lab.clock import Clock
    from axon_lab.explain import ExplainStore

    from .loop import OADERLoop

__all__ = [
    "AgentConfig",
    "GateSpec",
    "build_gate",
    "describe_agent",
    "gate_spec",
    "rebuild_agent",
]

GateKind = Literal["rejection_circuit_breaker", "pnl_circuit_breaker", "kill_switch", "always_open"]


class GateSpec(Record):
    """One gate, written down: its kind, its name and its settings."""

    kind: GateKind
    name: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)


def gate_spec(gate: RiskGate) -> GateSpec | None:
    """The spec of a built-in gate; None for a gate of another class (not rebuildable)."""
    if type(gate) is RejectionCircuitBreaker:
        return GateSpec(
            kind="rejection_circuit_breaker",
            name=gate.name,
            params={
                "max_rejections": gate.max_rejections,
                "window_s": gate.window.total_seconds(),
                "cooldown_s": gate.cooldown.total_seconds(),
                "lines": sorted(line.value for line in gate.lines),
            },
        )
    if type(gate) is PnLCircuitBreaker:
        return GateSpec(
            kind="pnl_circuit_breaker",
            name=gate.name,
            params={
                "max_drawdown": gate.max_drawdown,
                "max_daily_loss": gate.max_daily_loss,
                "trip_to": gate.trip_to.value,
            },
        )
    if type(gate) is KillSwitch:
        return GateSpec(
            kind="kill_switch", name=gate.name, params={"engaged_state": gate.engaged_state.value}
        )
    if type(gate) is AlwaysOpenGate:
        return GateSpec(kind="always_open", name=gate.name)
    return None


def build_gate(spec: GateSpec, clock: Clock) -> RiskGate:
    """A new gate from its spec (fresh state: a rebuilt run starts with every gate open)."""
    p = spec.params
    if spec.kind == "rejection_circuit_breaker":
        return RejectionCircuitBreaker(
            max_rejections=int(p["max_rejections"]),
            window=timedelta(seconds=float(p["window_s"])),
            cooldown=timedelta(seconds=float(p["cooldown_s"])),
            lines=frozenset(DefenceLine(v) for v in p["lines"]),
            name=spec.name,
        )
    if spec.kind == "pnl_circuit_breaker":
        return PnLCircuitBreaker(
            max_drawdown=p.get("max_drawdown"),
            max_daily_loss=p.get("max_daily_loss"),
            trip_to=GateState(p["trip_to"]),
            name=spec.name,
        )
    if spec.kind == "kill_switch":
        return KillSwitch(clock=clock, engaged_state=GateState(p["engaged_state"]), name=spec.name)
    return AlwaysOpenGate(name=spec.name)


class AgentConfig(Record):
    """Everything that shaped a run (see the module docstring)."""

    data: str | None
    data_fingerprint: str
    symbol: str
    timeframe: str
    analyst: Literal["rules", "llm", "custom"]
    model: str
    endpoint: str = ""
    max_iterations: int = 3
    llm_params: dict[str, Any] = Field(default_factory=dict)
    cash: float
    fee_rate: float
    limits: RiskLimits
    gates: tuple[GateSpec, ...]
    mode: Literal["direct", "dry_run", "two_phase", "custom"]
    confirm: dict[str, Any] | None = None
    confirm_above: float = 0.0
    decision_mode: Literal["direct", "rules"]
    risk_fraction: float
    stop_atr: float
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    brackets: bool = True
    long_only: bool
    every: int
    start: str | None = None
    lookback: int
    on_error: Literal["stop", "abstain"]
    instruments: dict[str, Instrument]
    cancel_on_halt: bool = False
    model_cutoff: date | None = None
    forecasts: dict[str, Any] | None = None
    vol_target: float | None = None
    code_version: str
    not_rebuildable: tuple[str, ...] = ()


def describe_agent(
    *,
    source: str,
    fingerprint: str,
    symbol: str,
    timeframe: str,
    analyst: Any,
    model: str,
    settings: dict[str, Any],
    gates: Sequence[RiskGate],
    mode: Any,
    confirm: Any,
    custom: Sequence[str],
) -> AgentConfig:
    """The :class:`AgentConfig` of an agent ``make_agent`` is building.

    Args:
        source: How the data was given (``sample:NAME``, ``file:PATH``, ``frame:...``).
        fingerprint: The data's fingerprint.
        symbol: The traded symbol.
        timeframe: The bar length label.
        analyst: What was passed as the analyst.
        model: The analyst's model name.
        settings: The plain settings, by ``AgentConfig`` field name.
        gates: The gates.
        mode: The safety mode (a name or an instance).
        confirm: The confirmation policy, if any.
        custom: Parts already known not to be rebuildable.
    """
    from axon_lab.explain import code_version
    from axon_lab.llm import LLMClient

    not_rebuildable = list(custom)
    kind, _, where = source.partition(":")
    data = where if kind in ("sample", "file") else None
    if analyst == "rules":
        analyst_kind = "rules"
    elif isinstance(analyst, LLMClient):
        analyst_kind = "llm"
    else:
        analyst_kind = "custom"
        not_rebuildable.append(f"the analyst {model!r}")
    specs = []
    for gate in gates:
        spec = gate_spec(gate)
        if spec is None:
            not_rebuildable.append(f"the gate {gate!r}")
        else:
            specs.append(spec)
    mode_name = mode if isinstance(mode, str) else "custom"
    if mode_name == "custom":
        not_rebuildable.append(f"the safety mode {mode!r}")
    confirm_spec: dict[str, Any] | None = None
    if isinstance(confirm, AutoConfirmBelow):
        confirm_spec = {"kind": "auto_confirm_below", "notional": confirm.notional}
    elif isinstance(confirm, WaitForPerson):
        confirm_spec = {"kind": "wait_for_person"}
    elif confirm is not None:
        not_rebuildable.append(f"the confirmation policy {confirm!r}")
    return AgentConfig(
        data=data,
        data_fingerprint=fingerprint,
        symbol=symbol,
        timeframe=timeframe,
        analyst=analyst_kind,
        model=model,
        endpoint=str(getattr(analyst, "endpoint", "") or "") if analyst_kind == "llm" else "",
        gates=tuple(specs),
        mode=mode_name,
        confirm=confirm_spec,
        code_version=code_version(),
        not_rebuildable=tuple(not_rebuildable),
        **settings,
    )


def _confirm(spec: dict[str, Any] | None) -> Any:
    if spec is None:
        return None
    if spec.get("kind") == "auto_confirm_below":
        return AutoConfirmBelow(float(spec["notional"]))
    return WaitForPerson()


def rebuild_agent(
    store: ExplainStore,
    run_id: str,
    *,
    analyst: Any = None,
    data: Any = None,
    into: ExplainStore | str | None = None,
    new_run_id: str | None = None,
    progress: bool = False,
    overrides: Mapping[str, Any] | None = None,
) -> OADERLoop:
    """Build the agent of recorded run ``run_id`` again, from its stored :class:`AgentConfig`.

    Args:
        store: Where the run is recorded.
        run_id: The run.
        analyst: The LLM client for an LLM run: the run's cache in replay mode
            (``CachedClient(..., mode="replay")``) rebuilds it without calling a model.
        data: The data, when the run was built from a frame rather than a sample or a file.
        into: Where the rebuilt run records (default: ``store``).
        new_run_id: The rebuilt run's id (default: ``run_id``, which needs another store).
        progress: Show a progress bar when running.
        overrides: ``make_agent`` arguments that replace the recorded ones (an audit's
            variant: other sampling ``llm_params``, a shifted ``start``); with ``"data"`` among
            them the agent is built on those bars and the data check is skipped.

    Raises:
        ConfigError: If the run holds no agent config, names parts that cannot be rebuilt, or
            needs an analyst or data that was not passed.
    """
    from .agent import make_agent

    info = store.get_run(run_id)
    raw = info.config.get("agent")
    if not isinstance(raw, dict):
        raise ConfigError(
            f"run {run_id!r} holds no agent config (recorded before axon_lab stored one); "
            "build it again with make_agent(...)"
        )
    cfg = AgentConfig.model_validate(raw)
    if cfg.not_rebuildable:
        raise ConfigError(
            f"run {run_id!r} used parts that cannot be written down: "
            f"{', '.join(cfg.not_rebuildable)}; build it with make_agent(...) passing them"
        )
    if cfg.analyst == "llm" and analyst is None:
        raise ConfigError(
            f"run {run_id!r} used the LLM {cfg.model!r}; pass analyst=CachedClient(client, "
            "store=<the run's cache>, mode='replay') to replay it, or a live client to re-run it"
        )
    changed = dict(overrides or {})
    other_data = "data" in changed
    source = changed.pop("data", data if data is not None else cfg.data)
    if source is None:
        raise ConfigError(f"run {run_id!r} was built from a frame; pass data=... (the same bars)")
    target = into if into is not None else store
    rid = new_run_id or run_id
    if target is store and rid == run_id:
        raise ConfigError(
            f"run {run_id!r} is already in this store; pass new_run_id=... or into=<another store>"
        )
    settings: dict[str, Any] = {
        "analyst": "rules" if cfg.analyst == "rules" else analyst,
        "cash": cfg.cash,
        "fee_rate": cfg.fee_rate,
        "limits": cfg.limits,
        "gates": [build_gate(g, _clock_placeholder()) for g in cfg.gates],
        "mode": cfg.mode if cfg.mode != "custom" else "direct",
        "decision_mode": cfg.decision_mode,
        "risk_fraction": cfg.risk_fraction,
        "stop_atr": cfg.stop_atr,
        "min_confidence": cfg.min_confidence,
        "brackets": cfg.brackets,
        "long_only": cfg.long_only,
        "store": target,
        "run_id": rid,
        "every": cfg.every,
        "start": cfg.start,
        "lookback": cfg.lookback,
        "on_error": cfg.on_error,
        "progress": progress,
        "model_cutoff": cfg.model_cutoff,
        "max_iterations": cfg.max_iterations,
        "llm_params": cfg.llm_params,
        "instruments": cfg.instruments,
        "cancel_on_halt": cfg.cancel_on_halt,
        "confirm": _confirm(cfg.confirm),
        "confirm_above": cfg.confirm_above,
        "forecasts": None if cfg.forecasts is None else _forecasts(cfg.forecasts),
        "vol_target": cfg.vol_target,
    }
    loop = make_agent(source, **{**settings, **changed})
    if (
        not other_data
        and loop.config.get("agent", {}).get("data_fingerprint") != cfg.data_fingerprint
    ):
        loop.close()
        raise ConfigError(
            f"the data differs from run {run_id!r}'s (fingerprint {cfg.data_fingerprint[:19]}...);"
            " rebuild it on the same bars"
        )
    return loop


def _forecasts(spec: dict[str, Any]) -> Any:
    from axon_lab.forecast import Forecasts

    return Forecasts(**spec)


def _clock_placeholder() -> Clock:
    from axon_lab.clock import WallClock

    return WallClock()  # a kill switch's clock only stamps a person's engage/release
