"""Forecasts: walk-forward volatility and direction forecasts as observation features.

At a decision time ``now`` the ``n`` bars complete at ``now`` are read through
:meth:`MarketView.bar_arrays_as_of <axon_lab.data.MarketView.bar_arrays_as_of>` (the point-in-time
door). The models are refitted on a fixed grid of bar counts, ``min_train + j * refit_every``:
the model used at ``now`` is the one fitted on the ``train_window`` log returns before the last
grid point ``m <= n``; it then reads the returns up to ``n``. So a forecast is a function of the
bars complete at ``now`` only, whatever step the loop started at (a resumed run or an RL column
computes the same numbers), and changing a later bar cannot change it.

Features (per symbol, ``None`` until ``min_train`` bars are complete):

* ``fc_vol``: forecast std of the log return over the next ``horizon`` bars (GARCH(1,1), see
  :mod:`axon_lab.forecast._garch`); ``fc_vol_lo``, ``fc_vol_hi``: its ``band`` interval under the
  parameters' estimation uncertainty;
* ``fc_p_up``: probability that the log return over the next ``horizon`` bars is positive
  (logistic regression on ``lags`` lagged returns); ``fc_p_up_lo``, ``fc_p_up_hi``: its ``band``
  interval;
* ``fc_horizon``: ``horizon``, so that whoever reads the features knows what they forecast.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from axon_lab.data.view import MarketView
from axon_lab.errors import ConfigError

from ._direction import LogitFit, fit_direction, predict_direction
from ._garch import GarchFit, fit_garch, garch_horizon_std

__all__ = ["FORECAST_FEATURES", "Forecasts"]

FORECAST_FEATURES = (
    "fc_vol", "fc_vol_lo", "fc_vol_hi", "fc_p_up", "fc_p_up_lo", "fc_p_up_hi", "fc_horizon",
)  # fmt: skip
"""The feature names :class:`Forecasts` adds to an observation."""

_ALL = 2**62  # "every complete bar" for bar_arrays_as_of (a view, no copy)


def _int(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{name} must be an int >= {low}, got {value!r}")
    return value


class Forecasts:
    """Walk-forward GARCH volatility and logistic direction forecasts (see the module docstring).

    Args:
        horizon: Bars ahead the forecasts are about.
        refit_every: Bars between refits.
        train_window: Most log returns a fit uses (the newest before the refit point).
        min_train: Returns needed before the first fit (and the first refit point).
        filter_window: Most returns the volatility filter runs over at each step.
        lags: Lagged returns of the direction model.
        penalty: L2 penalty of the direction model (on standardised features).
        band: Probability mass of the uncertainty bands.
        n_draws: Parameter draws behind the volatility band.
        vol: Whether to forecast volatility.
        direction: Whether to forecast direction.
        seed: Seed of the parameter draws.

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> view = MarketView(make_synthetic(400, timeframe="1h", seed=3, symbol="S"),
        ...                   feature_spec=())
        >>> fc = Forecasts(horizon=4, refit_every=100, min_train=200)
        >>> early = fc.features(view, view.decision_times()[50], "S")
        >>> early["fc_vol"] is None, early["fc_horizon"]
        (True, 4.0)
        >>> late = fc.features(view, view.end, "S")
        >>> late["fc_vol_lo"] <= late["fc_vol"] <= late["fc_vol_hi"]
        True
        >>> 0.0 < late["fc_p_up_lo"] <= late["fc_p_up"] <= late["fc_p_up_hi"] < 1.0
        True
    """

    def __init__(
        self,
        *,
        horizon: int = 1,
        refit_every: int = 250,
        train_window: int = 1_000,
        min_train: int = 250,
        filter_window: int = 500,
        lags: int = 5,
        penalty: float = 1.0,
        band: float = 0.9,
        n_draws: int = 100,
        vol: bool = True,
        direction: bool = True,
        seed: int = 0,
    ) -> None:
        self.horizon = _int("horizon", horizon, 1)
        self.refit_every = _int("refit_every", refit_every, 1)
        self.train_window = _int("train_window", train_window, 20)
        self.min_train = _int("min_train", min_train, 20)
        self.filter_window = _int("filter_window", filter_window, 10)
        self.lags = _int("lags", lags, 1)
        self.n_draws = _int("n_draws", n_draws, 0)
        self.seed = _int("seed", seed, 0)
        if self.min_train > self.train_window:
            raise ConfigError(
                f"min_train ({min_train}) must not exceed train_window ({train_window})"
            )
        if not (isinstance(penalty, int | float) and math.isfinite(penalty) and penalty >= 0):
            raise ConfigError(f"penalty must be a finite number >= 0, got {penalty!r}")
        if not (isinstance(band, float) and 0.0 < band < 1.0):
            raise ConfigError(f"band must be a probability in (0, 1) such as 0.9, got {band!r}")
        if not (vol or direction):
            raise ConfigError("Forecasts with vol=False and direction=False forecasts nothing")
        self.penalty = float(penalty)
        self.band = band
        self.vol, self.direction = bool(vol), bool(direction)
        self._z = float(norm.ppf(0.5 + band / 2.0))
        self._fits: OrderedDict[bytes, tuple[GarchFit | None, LogitFit | None]] = OrderedDict()
        self.n_fits = 0

    def spec(self) -> dict[str, Any]:
        """The constructor's arguments: ``Forecasts(**fc.spec())`` forecasts the same numbers.

        Examples:
            >>> Forecasts(**Forecasts(horizon=6, lags=3).spec()).spec()["lags"]
            3
        """
        return {
            "horizon": self.horizon,
            "refit_every": self.refit_every,
            "train_window": self.train_window,
            "min_train": self.min_train,
            "filter_window": self.filter_window,
            "lags": self.lags,
            "penalty": self.penalty,
            "band": self.band,
            "n_draws": self.n_draws,
            "vol": self.vol,
            "direction": self.direction,
            "seed": self.seed,
        }

    def describe(self) -> dict[str, Any]:
        """The settings, as recorded with a run."""
        return {
            "vol": "garch(1,1), zero mean, normal (arch)" if self.vol else None,
            "direction": f"logistic regression on {self.lags} lagged log returns"
            if self.direction
            else None,
            "horizon": self.horizon,
            "refit_every": self.refit_every,
            "train_window": self.train_window,
            "min_train": self.min_train,
            "filter_window": self.filter_window,
            "penalty": self.penalty,
            "band": self.band,
            "n_draws": self.n_draws,
            "seed": self.seed,
        }

    def refit_point(self, n_bars: int) -> int | None:
        """The bar count of the fit used when ``n_bars`` bars are complete (None: no fit yet).

        Fits happen when ``min_train + j * refit_every`` returns (one more bar) are complete.

        Examples:
            >>> fc = Forecasts(refit_every=10, min_train=100, train_window=200)
            >>> fc.refit_point(100), fc.refit_point(101), fc.refit_point(110), fc.refit_point(111)
            (None, 101, 101, 111)
        """
        n_returns = n_bars - 1
        if n_returns < self.min_train:
            return None
        done = (n_returns - self.min_train) // self.refit_every * self.refit_every
        return self.min_train + done + 1

    def _fit(self, train: np.ndarray) -> tuple[GarchFit | None, LogitFit | None]:
        key = hashlib.sha1(train.tobytes()).digest()  # the fit is a function of its data
        hit = self._fits.get(key)
        if hit is not None:
            self._fits.move_to_end(key)
            return hit
        fitted = (
            fit_garch(train, n_draws=self.n_draws, seed=self.seed) if self.vol else None,
            fit_direction(train, lags=self.lags, horizon=self.horizon, penalty=self.penalty)
            if self.direction
            else None,
        )
        self.n_fits += 1
        self._fits[key] = fitted
        while len(self._fits) > 8:
            self._fits.popitem(last=False)
        return fitted

    def from_closes(self, closes: np.ndarray) -> dict[str, float | None]:
        """The features given every close complete now, oldest first."""
        out: dict[str, float | None] = dict.fromkeys(FORECAST_FEATURES)
        out["fc_horizon"] = float(self.horizon)
        m = self.refit_point(closes.shape[0])
        if m is None:
            return out
        n_returns = closes.shape[0] - 1
        # only the returns the fit and the filter read (returns[i] = log(closes[i+1]/closes[i]))
        lo = max(0, min(m - 1 - self.train_window, n_returns - self.filter_window))
        with np.errstate(divide="ignore", invalid="ignore"):
            returns = np.diff(np.log(closes[lo:]))
        if not np.all(np.isfinite(returns)):
            return out
        train = returns[max(0, m - 1 - self.train_window) - lo : m - 1 - lo]
        garch, logit = self._fit(np.ascontiguousarray(train))
        if garch is not None:
            stds = garch_horizon_std(garch, returns[-self.filter_window :], self.horizon)
            point = float(stds[0])
            out["fc_vol"] = point
            if stds.shape[0] > 1:
                tail = (1.0 - self.band) / 2.0
                lo, hi = np.quantile(stds[1:], [tail, 1.0 - tail])
                # the draws' quantiles, widened to hold the estimate if they miss it
                out["fc_vol_lo"] = min(float(lo), point)
                out["fc_vol_hi"] = max(float(hi), point)
        if logit is not None:
            p, lo, hi = predict_direction(logit, returns[-logit.lags :], self._z)
            out["fc_p_up"], out["fc_p_up_lo"], out["fc_p_up_hi"] = p, lo, hi
        return out

    def features(
        self, view: MarketView, now: datetime | pd.Timestamp, symbol: str
    ) -> dict[str, float | None]:
        """The forecast features of ``symbol`` from the bars complete at ``now``."""
        _, values = view.bar_arrays_as_of(now, symbol, lookback=_ALL)
        return self.from_closes(values[:, 3])

    def frame(self, view: MarketView, symbol: str) -> pd.DataFrame:
        """The features at each bar's completion, one row per bar (e.g. an RL feature column).

        Each row is what :meth:`features` gives at that bar's completion time.
        """
        bars = view.as_of(view.end, symbol)
        closes = bars["close"].to_numpy(dtype=np.float64)
        rows = [self.from_closes(closes[: i + 1]) for i in range(closes.shape[0])]
        return pd.DataFrame(rows, index=bars.index, columns=list(FORECAST_FEATURES), dtype=float)

    def __repr__(self) -> str:
        return (
            f"Forecasts(horizon={self.horizon}, refit_every={self.refit_every}, "
            f"train_window={self.train_window}, vol={self.vol}, direction={self.direction})"
        )
