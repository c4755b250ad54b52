"""Direction forecast: an L2-penalised logistic regression of the next move's sign.

Features at bar ``i``: the last ``lags`` log returns (``r[i], r[i-1], ...``), standardised with
the training window's mean and std. Label: whether the summed log return of the ``horizon`` bars
after ``i`` is above zero. Only samples whose label is complete inside the training window are
used (the last ``horizon`` bars of a window have no label yet), so a fit never reads a return
after its window's end.

The fit minimises the penalised negative log likelihood with scipy's L-BFGS-B. The band of
``P(up)`` is the delta-method interval of the logit, from the inverse Hessian of the penalised
likelihood; labels of overlapping horizons are correlated, so for ``horizon > 1`` the band is
narrower than it should be (the prompt says which horizon it is).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit

__all__ = ["LogitFit", "fit_direction", "lagged", "predict_direction"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LogitFit:
    """A fitted direction model.

    Attributes:
        coef: Intercept then one weight per lag.
        cov: Covariance of ``coef`` (inverse penalised Hessian).
        mean: Training mean of the features.
        std: Training std of the features.
        lags: Lagged returns used.
        n_obs: Training samples.
        base_rate: Share of up labels in training.
    """

    coef: np.ndarray = field(repr=False)
    cov: np.ndarray = field(repr=False)
    mean: np.ndarray = field(repr=False)
    std: np.ndarray = field(repr=False)
    lags: int
    n_obs: int
    base_rate: float


def lagged(returns: np.ndarray, lags: int) -> np.ndarray:
    """Row ``j`` holds ``returns[j + lags - 1], ..., returns[j]`` (newest first).

    Examples:
        >>> lagged(np.array([1.0, 2.0, 3.0, 4.0]), 2).tolist()
        [[2.0, 1.0], [3.0, 2.0], [4.0, 3.0]]
    """
    n = returns.shape[0] - lags + 1
    return np.stack([returns[lags - 1 - j : lags - 1 - j + n] for j in range(lags)], axis=1)


def fit_direction(
    returns: np.ndarray, *, lags: int, horizon: int, penalty: float
) -> LogitFit | None:
    """Fit on ``returns`` (oldest first); None when too few samples or one class only."""
    x = lagged(returns, lags)  # row j: features at bar j + lags - 1
    ahead = np.convolve(returns, np.ones(horizon), mode="valid")  # ahead[i] = sum r[i..i+h-1]
    # the label of the features at bar i is the sum of r[i+1 .. i+h]: ahead[i + 1]
    first = lags - 1
    n = min(x.shape[0], ahead.shape[0] - 1 - first)
    if n < 4 * (lags + 1):
        return None
    x = x[:n]
    y = (ahead[first + 1 : first + 1 + n] > 0.0).astype(np.float64)
    if y.min() == y.max():
        return None
    mean, std = x.mean(axis=0), x.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    design = np.column_stack([np.ones(n), (x - mean) / std])
    ridge = np.full(design.shape[1], penalty)
    ridge[0] = 0.0  # the intercept is not shrunk

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = design @ w
        nll = -float(np.sum(y * log_expit(z) + (1.0 - y) * log_expit(-z)))
        grad = design.T @ (expit(z) - y) + ridge * w
        return nll + 0.5 * float(np.sum(ridge * w * w)), grad

    found = minimize(loss, np.zeros(design.shape[1]), jac=True, method="L-BFGS-B")
    w = np.asarray(found.x, dtype=np.float64)
    p = expit(design @ w)
    hessian = (design * (p * (1.0 - p))[:, None]).T @ design + np.diag(ridge)
    try:
        cov = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        return None
    return LogitFit(
        coef=w, cov=cov, mean=mean, std=std, lags=lags, n_obs=n, base_rate=float(y.mean())
    )


def predict_direction(fit: LogitFit, recent: np.ndarray, z_band: float) -> tuple[float, ...]:
    """``(p_up, p_lo, p_hi)`` for the features of the newest bar of ``recent`` (its returns)."""
    x = recent[::-1][: fit.lags]
    row = np.concatenate([[1.0], (x - fit.mean) / fit.std])
    z = float(row @ fit.coef)
    se = float(np.sqrt(max(float(row @ fit.cov @ row), 0.0)))
    return float(expit(z)), float(expit(z - z_band * se)), float(expit(z + z_band * se))
