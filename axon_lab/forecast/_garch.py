"""GARCH(1,1) volatility forecast: fitted by the ``arch`` package, filtered here over draws.

The fit (maximum likelihood, zero mean, normal errors) is ``arch``'s. What ``arch`` does not
offer is a band of the forecast under the fitted parameters' uncertainty, so the filter is
written here once for a whole set of parameter draws at a time (one numpy row per draw): the
first row holds the fitted parameters and gives the point forecast, the others are draws from
the estimates' asymptotic normal distribution (``param_cov``), kept where the process is
stationary. The recursion is ``arch``'s own (its backcast starts it, then
``s2[t] = omega + alpha * r[t-1]**2 + beta * s2[t-1]``); a test checks it against
``arch``'s ``fix(...).forecast(...)``.

Returns are log returns scaled by ``scale`` (``arch`` fits best on numbers of order 1); every
value returned is back in return units.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from axon_lab._imports import require

__all__ = ["GarchFit", "fit_garch", "garch_horizon_std"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GarchFit:
    """A fitted GARCH(1,1) and its parameter draws.

    Attributes:
        params: ``(n_draws, 3)`` rows of ``omega, alpha, beta`` on the scaled returns; row 0 is
            the estimate.
        scale: What the returns were multiplied by before fitting.
        n_obs: Returns the fit used.
        converged: Whether the optimiser reported success.
    """

    params: np.ndarray = field(repr=False)
    scale: float
    n_obs: int
    converged: bool


def fit_garch(returns: np.ndarray, *, n_draws: int, seed: int) -> GarchFit | None:
    """Fit a zero-mean GARCH(1,1) to ``returns``; None when it cannot be fitted.

    Args:
        returns: Log returns, oldest first (all finite).
        n_draws: Parameter draws for the band (besides the estimate).
        seed: Seed of the draws.
    """
    arch = require("arch", "core", purpose="the GARCH volatility forecast")
    std = float(np.std(returns))
    if not np.isfinite(std) or std <= 0.0:
        return None
    scale = 1.0 / std  # the fit sees unit-variance numbers; arch's own rescale would warn
    model = arch.arch_model(returns * scale, mean="Zero", vol="GARCH", p=1, q=1, rescale=False)
    with warnings.catch_warnings():
        # a fit that ends on a boundary warns (ConvergenceWarning); the result still holds the
        # best parameters found and says whether it converged: recorded, not raised
        warnings.simplefilter("ignore")
        result = model.fit(disp="off", show_warning=False)
    est = np.asarray(result.params, dtype=np.float64)
    if not np.all(np.isfinite(est)):
        return None
    rows = [est]
    cov = np.asarray(result.param_cov, dtype=np.float64)
    if n_draws > 0 and np.all(np.isfinite(cov)):
        rng = np.random.default_rng(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a covariance on a boundary is not quite PSD
            draws = rng.multivariate_normal(est, cov, size=4 * n_draws, method="eigh")
        ok = (draws[:, 0] > 0) & (draws[:, 1] >= 0) & (draws[:, 2] >= 0)
        ok &= draws[:, 1] + draws[:, 2] < 1.0
        rows += list(draws[ok][:n_draws])
    return GarchFit(
        params=np.array(rows),
        scale=scale,
        n_obs=int(returns.shape[0]),
        converged=int(result.convergence_flag) == 0,
    )


def _backcast(scaled: np.ndarray) -> float:
    # arch's backcast for GARCH: an EWMA (0.94) of the first 75 squared residuals
    tau = min(75, scaled.shape[0])
    w = 0.94 ** np.arange(tau)
    return float(np.sum(scaled[:tau] ** 2 * (w / w.sum())))


def garch_horizon_std(fit: GarchFit, returns: np.ndarray, horizon: int) -> np.ndarray:
    """Forecast std of the log return over the next ``horizon`` bars, one per parameter row.

    Args:
        fit: The fitted model.
        returns: Log returns up to now, oldest first; the filter runs over all of them.
        horizon: Bars ahead (the forecast is of their summed return).

    Returns:
        ``(n_rows,)`` standard deviations in return units (row 0: the estimate's).
    """
    scaled = returns * fit.scale
    omega, alpha, beta = fit.params[:, 0], fit.params[:, 1], fit.params[:, 2]
    back = _backcast(scaled)
    s2 = omega + (alpha + beta) * back
    newest_first = (scaled**2)[::-1]
    # hand-written (arch filters one parameter set at a time): the recursion unrolled for every
    # draw at once, s2[T] = omega * sum(beta^j) + alpha * sum(beta^j * r2[T-1-j]) + beta^T * s2[0]
    powers = beta[:, None] ** np.arange(newest_first.shape[0] + 1, dtype=np.float64)[None, :]
    s2 = omega * powers[:, :-1].sum(axis=1) + alpha * (powers[:, :-1] @ newest_first)
    s2 = s2 + powers[:, -1] * (omega + (alpha + beta) * back)
    phi = alpha + beta
    long_run = omega / np.maximum(1.0 - phi, 1e-12)
    # E[sum of the next h variances] = h * V + (s2_{t+1} - V) * (1 - phi^h) / (1 - phi)
    k = np.arange(horizon, dtype=np.float64)
    total = horizon * long_run + (s2 - long_run) * (phi[:, None] ** k[None, :]).sum(axis=1)
    out: np.ndarray = np.sqrt(np.maximum(total, 0.0)) / fit.scale
    return out
