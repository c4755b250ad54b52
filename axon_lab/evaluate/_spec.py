"""What an evaluation runs: agent specifications, walk-forward windows and the random baseline.

An :class:`AgentSpec` is a small frozen record: a name, the analyst (``"rules"``, or a factory
that returns what :func:`~axon_lab.oader.make_agent` accepts as ``analyst``: an LLM client or an
Analyze stage) and extra ``make_agent`` keyword arguments. It crosses process boundaries (pickle)
and is recorded in every run's config by :meth:`AgentSpec.describe`.

An :class:`EvalWindow` is one walk-forward window of one symbol: ``warmup`` bars the indicators
read before the first decision, then ``n_steps`` decision bars (one decision per bar).

:class:`RandomAnalyst` is the random baseline: at each step, with probability ``rate``, it trades
against its position (buys when flat, sells when holding), so it trades as often as the agent it
is matched to, at random times.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from axon_lab.errors import ConfigError

__all__ = [
    "AgentSpec",
    "EvalWindow",
    "RandomAnalyst",
    "RandomAnalystFactory",
    "make_windows",
    "window_run_id",
]

# make_agent arguments the evaluation sets for every agent alike (same fees, fills and windows)
_RESERVED = frozenset(
    {
        "data",
        "analyst",
        "backend",
        "cash",
        "fee_rate",
        "store",
        "run_id",
        "resume",
        "every",
        "start",
        "progress",
        "callbacks",
        "config",
    }
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSpec:
    """An agent to evaluate: a name, its analyst and extra ``make_agent`` arguments.

    Attributes:
        name: Short id (letters, digits, ``_.-``); part of every run id.
        analyst: ``"rules"`` for the rules analyst, or a zero-argument factory returning an
            analyst for :func:`~axon_lab.oader.make_agent` (an LLM client or an Analyze stage).
            The factory is called once per evaluation (async) or once per run (processes), so a
            client it returns is shared by every window of an async evaluation, with its cache
            and cost ledger. For processes it must be picklable (a module-level function).
        params: Extra ``make_agent`` keyword arguments (e.g. ``risk_fraction``); the evaluation
            sets cash, fees, schedule and store for every agent alike.
        kind: ``"cpu"`` (run in worker processes) or ``"llm"`` (run concurrently with asyncio
            in one process, or in shares on a cluster's workers); default: ``"cpu"`` for the
            rules analyst, else ``"llm"``.

    Examples:
        >>> AgentSpec(name="rules").describe()
        {'name': 'rules', 'analyst': 'rules', 'params': {}, 'kind': 'cpu'}
    """

    name: str
    analyst: str | Callable[[], Any] = "rules"
    params: Mapping[str, Any] = field(default_factory=dict)
    kind: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ConfigError(
                f"AgentSpec name {self.name!r} must be 1-64 letters, digits, '_', '.' or '-' "
                "(it is part of every run id), e.g. 'rules' or 'gpt-4o-mini'"
            )
        if isinstance(self.analyst, str) and self.analyst != "rules":
            raise ConfigError(
                f"AgentSpec analyst {self.analyst!r}: pass 'rules' or a zero-argument factory "
                "returning an LLM client or an Analyze stage"
            )
        if not isinstance(self.analyst, str) and not callable(self.analyst):
            raise ConfigError(f"AgentSpec analyst {self.analyst!r} is neither 'rules' nor callable")
        bad = sorted(set(self.params) & _RESERVED)
        if bad:
            raise ConfigError(
                f"AgentSpec params {bad} are set by the evaluation for every agent alike (same "
                "fees, fills and windows); pass them to evaluate(...) instead"
            )
        object.__setattr__(self, "params", dict(self.params))
        kind = self.kind or ("cpu" if self.analyst == "rules" else "llm")
        if kind not in ("cpu", "llm"):
            raise ConfigError(f"AgentSpec kind must be 'cpu' or 'llm', got {kind!r}")
        object.__setattr__(self, "kind", kind)

    def make_analyst(self) -> Any:
        """The analyst for ``make_agent``: ``"rules"`` or what the factory returns."""
        return self.analyst if isinstance(self.analyst, str) else self.analyst()

    def describe(self) -> dict[str, Any]:
        """A JSON-able description, recorded in each run's config."""
        analyst: Any = self.analyst
        if not isinstance(analyst, str):
            describe = getattr(analyst, "describe", None)
            analyst = describe() if callable(describe) else _qualname(analyst)
        return {
            "name": self.name,
            "analyst": analyst,
            "params": {k: _plain(v) for k, v in self.params.items()},
            "kind": self.kind,
        }


def _qualname(obj: Any) -> str:
    module = getattr(obj, "__module__", None) or type(obj).__module__
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{module}.{name}"


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return repr(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class EvalWindow:
    """One walk-forward window of one symbol.

    Attributes:
        symbol: The symbol.
        index: Window number within the symbol (0 = earliest).
        first: Position of the first bar of the slice (warm-up included) in the full frame.
        start: Position of the first decision bar.
        stop: One past the last decision bar.
    """

    symbol: str
    index: int
    first: int
    start: int
    stop: int

    @property
    def n_steps(self) -> int:
        """Decision bars in the window (one step each)."""
        return self.stop - self.start

    @property
    def label(self) -> str:
        """``SYMBOL/wNN``."""
        return f"{self.symbol}/w{self.index:02d}"


def make_windows(
    symbol: str, n_bars: int, *, n_windows: int, warmup: int, test: int | None = None
) -> list[EvalWindow]:
    """The last ``n_windows`` walk-forward windows of ``test`` bars after ``warmup`` bars.

    Windows come from :func:`~axon_lab.backtest.walk_forward_splits` (train = the warm-up the
    analyst reads, test = the decision bars); they do not overlap. ``test`` defaults to as long
    as ``n_windows`` windows allow.

    Raises:
        ConfigError: If the windows do not fit in ``n_bars``.

    Examples:
        >>> [(w.first, w.start, w.stop) for w in make_windows("S", 100, n_windows=2, warmup=20)]
        [(0, 20, 60), (40, 60, 100)]
    """
    from axon_lab.backtest import walk_forward_splits

    for name, value, low in (("n_windows", n_windows, 1), ("warmup", warmup, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"{name} must be an int >= {low}, got {value!r}")
    if test is None:
        test = (n_bars - warmup) // n_windows
        if test < 2:
            raise ConfigError(
                f"{symbol}: {n_bars} bars hold no {n_windows} windows after a {warmup}-bar "
                "warm-up; use fewer windows, a shorter warm-up or more data"
            )
    # align the windows to the end of the data: the most recent bars are always evaluated
    offset = max(n_bars - max(warmup, 1) - test, 0) % test
    splits = walk_forward_splits(n_bars - offset, max(warmup, 1), test)
    if len(splits) < n_windows:
        raise ConfigError(
            f"{symbol}: only {len(splits)} windows of {test} bars fit in {n_bars} bars after a "
            f"{warmup}-bar warm-up, not n_windows={n_windows}; ask for fewer or shorter windows"
        )
    out = []
    for i, (_, tst) in enumerate(splits[-n_windows:]):
        start = int(tst[0]) + offset
        out.append(
            EvalWindow(
                symbol=symbol,
                index=i,
                first=start - warmup,
                start=start,
                stop=int(tst[-1]) + 1 + offset,
            )
        )
    return out


def window_run_id(evaluation_id: str, agent: str, window: EvalWindow) -> str:
    """The run id of ``agent`` on ``window``: ``<eval>--<agent>--<symbol>--wNN``.

    Examples:
        >>> window_run_id("ev1", "rules", EvalWindow(symbol="BTC-USD", index=3, first=0,
        ...               start=10, stop=20))
        'ev1--rules--BTC-USD--w03'
    """
    symbol = re.sub(r"[^A-Za-z0-9_.-]", "-", window.symbol)
    return f"{evaluation_id}--{agent}--{symbol}--w{window.index:02d}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RandomAnalystFactory:
    """A picklable factory of :class:`RandomAnalyst` (one per window and draw)."""

    rate: float
    seed: int

    def __call__(self) -> RandomAnalyst:
        """Build the analyst."""
        return RandomAnalyst(rate=self.rate, seed=self.seed)

    def describe(self) -> str:
        """What the run config records."""
        return f"random(rate={self.rate:.6g}, seed={self.seed})"


class RandomAnalyst:
    """The random baseline's Analyze stage: trades against its position with probability ``rate``.

    With probability ``rate`` a step proposes a trade (buy when flat, sell when holding), else
    it holds; one draw of its ``np.random.Generator`` per step, so a run is reproducible from
    its seed and a resumed run replays identically.

    Args:
        rate: Share of steps with a trade proposal, in ``[0, 1]`` (the agent's trade frequency).
        seed: Seed of the generator.

    Examples:
        >>> RandomAnalyst(rate=0.25, seed=1).name
        'random:rate=0.25'
    """

    def __init__(self, *, rate: float, seed: int) -> None:
        if not isinstance(rate, int | float) or not 0.0 <= float(rate) <= 1.0:
            raise ConfigError(f"rate must be in [0, 1], got {rate!r}")
        self.rate = float(rate)
        self.rng = np.random.default_rng(seed)
        self.name = f"random:rate={self.rate:.6g}"

    def __call__(self, observation: Any) -> Any:
        """Analyse ``observation``: a coin with probability ``rate`` says trade."""
        from axon_lab.records import Action, Analysis, AnalysisSource, MarketAssessment, RiskLevel

        symbol = observation.symbols[0]
        position = observation.portfolio.positions.get(symbol)
        held = 0.0 if position is None else float(position.quantity)
        trade = bool(self.rng.random() < self.rate)
        if not trade:
            action, market = Action.HOLD, MarketAssessment.RANGE
        elif held > 0:
            action, market = Action.SELL, MarketAssessment.DOWNTREND
        else:
            action, market = Action.BUY, MarketAssessment.UPTREND
        why = f"random baseline: {'trade' if trade else 'no trade'} (rate {self.rate:.3g})"
        return Analysis(
            thought=why,
            market_assessment=market,
            risk_assessment=RiskLevel.LOW,
            confidence=1.0,
            action=action,
            reason=why,
            source=AnalysisSource.RULES,
            analyst=self.name,
        )


def trade_rate(actions: pd.Series) -> float:
    """Share of steps whose decision was not a hold."""
    if len(actions) == 0:
        return 0.0
    return float((actions.astype(str) != "hold").mean())
