"""Mode 2, LLM-guided RL: reward shaping from the LLM's market-quality reading, and a curriculum.

Reward shaping. :class:`MarketQualityAssessor` asks the LLM, once per segment of ``segment`` bars,
how good the market is for trading (``poor``, ``neutral`` or ``good``), showing it only the
``lookback`` bars before the segment starts (point-in-time). The request for a segment depends
only on those bars, so through a :class:`~axon_lab.llm.CachedClient` a second training on the same
data replays every answer and makes no LLM call. :class:`LLMRewardShaper` maps each reading to a
reward factor (the mapping is the caller's choice) and multiplies the environment reward at every
bar: :meth:`LLMRewardShaper.wrap` for the batched env (what :func:`~axon_lab.rl.train_policy`
takes as ``env_wrapper``), :class:`QualityRewardWrapper` for a single :class:`TradingEnv`.

Curriculum. :class:`RegimeCurriculum` picks the training windows by regime: a stage is a set of
regime labels, and episodes start only where the window's dominant label is in the current stage.
:class:`CurriculumCallback` promotes to the next stage once the mean episode return of a rollout
reaches ``promote_at``. Labels come from anywhere: ``make_synthetic(return_regimes=True)``,
:func:`trend_regimes` (a causal trend/range labeller) or per-bar LLM readings.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium
import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnvWrapper

from axon_lab.errors import ConfigError, LLMOutputError
from axon_lab.llm import extract_json_object
from axon_lab.rl._market import MarketArrays
from axon_lab.rl._vec_env import BatchedTradingEnv

__all__ = [
    "QUALITY_LEVELS",
    "CurriculumCallback",
    "LLMRewardShaper",
    "MarketQualityAssessor",
    "QualityRewardWrapper",
    "RegimeCurriculum",
    "VecQualityReward",
    "trend_regimes",
]

QUALITY_LEVELS = ("poor", "neutral", "good")
_SYSTEM = (
    "You rate market conditions for a trading agent. Given recent bars, answer with only a JSON "
    'object {"quality": "poor" | "neutral" | "good", "reason": "..."}: "poor" for noisy, '
    'choppy or illiquid conditions, "good" for clean trends, "neutral" otherwise.'
)


class MarketQualityAssessor:
    """Ask an LLM for the market quality of each segment of bars.

    Args:
        client: An LLM client; a :class:`~axon_lab.llm.CachedClient` makes retraining free.
        segment: Bars per assessment (>= 1).
        lookback: Bars shown before each segment (>= 2).
        **params: Completion parameters (``temperature`` ...), part of the cache key.
    """

    def __init__(self, client: Any, *, segment: int, lookback: int, **params: Any) -> None:
        if segment < 1 or lookback < 2:
            raise ConfigError(f"segment={segment!r} must be >= 1 and lookback={lookback!r} >= 2.")
        self.client = client
        self.segment = segment
        self.lookback = lookback
        self.params = params
        self.counts: Counter[str] = Counter()

    def messages(self, market: MarketArrays, start: int) -> list[dict[str, Any]]:
        """The request for the segment starting at bar ``start`` (bars before it only)."""
        lo = start - self.lookback
        closes = market.close[lo:start]
        rets = np.diff(np.log(closes))
        rows = "\n".join(
            f"{market.index[lo + i]:%Y-%m-%d %H:%M} close={c:.6g}" for i, c in enumerate(closes)
        )
        summary = (
            f"return={closes[-1] / closes[0] - 1:+.4f} volatility={rets.std(ddof=1):.4g} "
            f"up_bars={int((rets > 0).sum())}/{len(rets)}"
        )
        user = f"{market.symbol}, {market.timeframe} bars:\n{rows}\nSummary: {summary}"
        return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": user}]

    def _ask(self, messages: list[dict[str, Any]]) -> str:
        text = self.client.complete(messages, **self.params).text
        try:
            value = str(extract_json_object(text).get("quality", "")).lower()
        except LLMOutputError:
            value = ""
        if value not in QUALITY_LEVELS:
            self.counts["invalid"] += 1
            warnings.warn(
                f"The LLM's market-quality answer {text[:80]!r} is not one of {QUALITY_LEVELS}; "
                "using 'neutral' for this segment.",
                stacklevel=3,
            )
            return "neutral"
        self.counts[value] += 1
        return value

    def assess(self, market: MarketArrays) -> np.ndarray:
        """Quality label of every bar (``neutral`` where fewer than ``lookback`` bars precede)."""
        labels = np.full(market.n_bars, "neutral", dtype=object)
        for start in range(self.lookback, market.n_bars, self.segment):
            labels[start : start + self.segment] = self._ask(self.messages(market, start))
        return labels


class LLMRewardShaper:
    """Multiply rewards by a factor per LLM market-quality reading.

    Args:
        assessor: The :class:`MarketQualityAssessor`.
        factors: Reward factor per quality level, e.g. ``{"poor": ..., "neutral": ...,
            "good": ...}`` (each finite and >= 0).
    """

    def __init__(self, assessor: MarketQualityAssessor, factors: Mapping[str, float]) -> None:
        missing = [q for q in QUALITY_LEVELS if q not in factors]
        if missing or any(not (0.0 <= float(v) < np.inf) for v in factors.values()):
            raise ConfigError(
                f"factors needs a finite factor >= 0 for each of {QUALITY_LEVELS}; got "
                f"{dict(factors)} (missing {missing})."
            )
        self.assessor = assessor
        self.factors = {q: float(factors[q]) for q in QUALITY_LEVELS}

    def bar_factors(self, market: MarketArrays) -> np.ndarray:
        """Reward factor of every bar of ``market``."""
        labels = self.assessor.assess(market)
        return np.array([self.factors[q] for q in labels], dtype=np.float64)

    def wrap(self, venv: BatchedTradingEnv) -> VecQualityReward:
        """Shape a batched env's rewards (pass as ``train_policy(env_wrapper=...)``)."""
        return VecQualityReward(venv, self.bar_factors(venv.market))


class VecQualityReward(VecEnvWrapper):
    """Batched env wrapper: reward of a step at bar ``t`` times ``factors[t]``."""

    def __init__(self, venv: BatchedTradingEnv, factors: np.ndarray) -> None:
        super().__init__(venv)
        self._batched = venv
        self.factors = np.asarray(factors, dtype=np.float64)
        self._bars = np.zeros(venv.num_envs, dtype=np.int64)

    def reset(self) -> Any:
        """Reset the wrapped env."""
        return self.venv.reset()

    def step_async(self, actions: np.ndarray) -> None:
        """Remember each env's bar, then step."""
        self._bars = self._batched.sim.t.copy()
        self.venv.step_async(actions)

    def step_wait(self) -> Any:
        """Shaped rewards."""
        obs, rewards, dones, infos = self.venv.step_wait()
        return obs, (rewards * self.factors[self._bars]).astype(np.float32), dones, infos


class QualityRewardWrapper(gymnasium.RewardWrapper[np.ndarray, Any]):
    """Single-env wrapper: reward of a step at bar ``t`` times ``factors[t]``.

    Args:
        env: A :class:`~axon_lab.rl.TradingEnv` (possibly wrapped).
        factors: One factor per bar, e.g. :meth:`LLMRewardShaper.bar_factors`.
    """

    def __init__(self, env: gymnasium.Env[np.ndarray, Any], factors: np.ndarray) -> None:
        super().__init__(env)
        self.factors = np.asarray(factors, dtype=np.float64)
        self._bar = 0

    def step(self, action: Any) -> Any:
        """Remember the bar, then step."""
        self._bar = int(self.env.unwrapped.sim.t[0])  # type: ignore[attr-defined]
        return super().step(action)

    def reward(self, reward: Any) -> float:
        """The shaped reward."""
        return float(reward) * float(self.factors[self._bar])


def trend_regimes(close: np.ndarray, lookback: int, threshold: float) -> np.ndarray:
    """Causal trend labels: ``uptrend``, ``downtrend`` or ``range`` per bar.

    ``uptrend`` / ``downtrend`` when the trailing ``lookback``-bar return exceeds ``+threshold`` /
    ``-threshold``, else ``range`` (also during the warm-up).

    Examples:
        >>> trend_regimes(np.array([1.0, 1.0, 1.2, 1.5, 1.2]), 2, 0.1).tolist()
        ['range', 'range', 'uptrend', 'uptrend', 'range']
    """
    close = np.asarray(close, dtype=np.float64)
    out = np.full(close.shape[0], "range", dtype=object)
    if lookback < 1 or threshold < 0:
        raise ConfigError(f"lookback={lookback!r} must be >= 1 and threshold={threshold!r} >= 0.")
    ret = np.full(close.shape[0], 0.0)
    ret[lookback:] = close[lookback:] / close[:-lookback] - 1.0
    out[ret > threshold] = "uptrend"
    out[ret < -threshold] = "downtrend"
    return out


class RegimeCurriculum:
    """Training windows picked by regime, stage by stage (a :data:`~axon_lab.rl.StartSampler`).

    Args:
        labels: One regime label per bar of the training market.
        stages: Label sets, easiest first, e.g. ``[("bull",), ("bull", "sideways"), ...]``.
        episode_length: The env's episode length (the window whose dominant label counts).
        promote_at: Mean episode return that promotes to the next stage.
    """

    def __init__(
        self,
        labels: Sequence[str] | np.ndarray,
        stages: Sequence[Sequence[str]],
        *,
        episode_length: int,
        promote_at: float,
    ) -> None:
        if not stages:
            raise ConfigError("stages must list at least one set of regime labels.")
        labels = np.asarray(labels, dtype=object)
        names = sorted(set(labels.tolist()))
        unknown = sorted({s for stage in stages for s in stage} - set(names))
        if unknown:
            raise ConfigError(f"Stage label(s) {unknown} never occur; labels are {names}.")
        n = labels.shape[0] - episode_length + 1
        if n < 1:
            raise ConfigError(f"episode_length={episode_length} exceeds the {len(labels)} labels.")
        counts = np.stack(
            [np.convolve(labels == name, np.ones(episode_length), "valid") for name in names]
        )
        self.dominant = np.array(names, dtype=object)[np.argmax(counts, axis=0)]
        self.stages = [tuple(s) for s in stages]
        self.promote_at = float(promote_at)
        self.stage = 0
        self.history: list[tuple[int, float]] = []

    def candidates(self, lo: int, hi: int) -> np.ndarray:
        """Start bars in ``[lo, hi]`` whose window's dominant regime is in the current stage."""
        starts = np.arange(lo, min(hi, self.dominant.shape[0] - 1) + 1)
        ok = np.isin(self.dominant[starts], self.stages[self.stage])
        return starts[ok]

    def __call__(self, rng: np.random.Generator, n: int, lo: int, hi: int) -> np.ndarray:
        """Draw ``n`` start bars for the current stage."""
        pool = self.candidates(lo, hi)
        if pool.size == 0:
            raise ConfigError(
                f"No training window of stage {self.stage} {self.stages[self.stage]} lies in "
                f"bars [{lo}, {hi}]; add data with those regimes or change the stages."
            )
        return rng.choice(pool, size=n)

    def update(self, score: float) -> bool:
        """Record a mean episode return; promote (and return True) when it reaches the bar."""
        self.history.append((self.stage, float(score)))
        if score >= self.promote_at and self.stage < len(self.stages) - 1:
            self.stage += 1
            return True
        return False


class CurriculumCallback(BaseCallback):
    """Feeds each rollout's mean episode return to a :class:`RegimeCurriculum`.

    Installs the curriculum as the batched env's window sampler when training starts.
    """

    def __init__(self, curriculum: RegimeCurriculum) -> None:
        super().__init__(verbose=0)
        self.curriculum = curriculum
        self._returns: list[float] = []

    def _on_training_start(self) -> None:
        env = self.training_env
        while not isinstance(env, BatchedTradingEnv) and hasattr(env, "venv"):
            env = env.venv
        if not isinstance(env, BatchedTradingEnv):
            raise ConfigError("CurriculumCallback needs a BatchedTradingEnv to train on.")
        env.sim.sampler = self.curriculum
        self._cash = env.config.init_cash

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", ()):
            if "episode_equity" in info:
                self._returns.append(info["episode_equity"] / self._cash - 1.0)
        return True

    def _on_rollout_end(self) -> None:
        if self._returns:
            self.curriculum.update(float(np.mean(self._returns)))
            self._returns.clear()
