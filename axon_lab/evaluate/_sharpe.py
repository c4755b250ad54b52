"""The probabilistic and the deflated Sharpe ratio (Bailey and López de Prado, 2012 and 2014).

References:
    D. H. Bailey and M. López de Prado (2012), "The Sharpe Ratio Efficient Frontier", Journal of
    Risk 15(2): the probabilistic Sharpe ratio (PSR), eq. (7)-(8).

    D. H. Bailey and M. López de Prado (2014), "The Deflated Sharpe Ratio: Correcting for
    Selection Bias, Backtest Overfitting and Non-Normality", Journal of Portfolio Management
    40(5): the expected maximum Sharpe ratio of N trials, eq. (2) (with the Euler-Mascheroni
    constant), and the deflated Sharpe ratio DSR = PSR(SR0), eq. (1).

Conventions (the papers', stated once):

- the Sharpe ratio is per period, ``SR = mean(r) / std(r, ddof=1)`` (risk-free rate 0); the
  record also shows it annualised, ``SR * sqrt(periods_per_year)``, as the backtest's stats do;
- skewness and kurtosis are the sample moment ratios ``m3 / m2**1.5`` and ``m4 / m2**2``
  (kurtosis *not* in excess: 3 for a normal distribution);
- ``PSR(SR*) = Phi((SR - SR*) * sqrt(T - 1) / sqrt(1 - skew * SR + (kurt - 1) / 4 * SR**2))``;
- ``E[max SR] = sqrt(V) * ((1 - g) * Phi^-1(1 - 1/N) + g * Phi^-1(1 - 1/(N e)))``, with ``g`` the
  Euler-Mascheroni constant and ``V`` the variance of the trials' Sharpe ratios; with one trial
  nothing was selected and the threshold is 0.

The normal distribution comes from :class:`statistics.NormalDist` (standard library).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from statistics import NormalDist
from typing import Any

import numpy as np

from axon_lab.errors import EvaluationError
from axon_lab.evaluate._checks import as_matrix, as_vector, check_count, check_positive

__all__ = [
    "EULER_MASCHERONI",
    "SharpeTest",
    "deflated_sharpe",
    "expected_max_sharpe",
    "probabilistic_sharpe_ratio",
    "sharpe_test",
]

EULER_MASCHERONI = 0.5772156649015329
"""The Euler-Mascheroni constant used by the expected maximum Sharpe ratio."""

_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True, kw_only=True)
class SharpeTest:
    """A Sharpe ratio with its probabilistic and deflated versions.

    Attributes:
        sharpe: Annualised Sharpe ratio, ``sharpe_per_period * sqrt(periods_per_year)``.
        sharpe_per_period: The per-period Sharpe ratio the tests use.
        n_obs: Number of returns.
        skew: Sample skewness of the returns.
        kurtosis: Sample kurtosis (not in excess; 3 for normal returns).
        periods_per_year: The annualisation factor.
        benchmark_sharpe: Annualised threshold of the PSR.
        psr: Probability that the true Sharpe ratio exceeds ``benchmark_sharpe``.
        n_trials: Number of strategies tried before this one was picked.
        trial_sharpe_variance: Variance of the trials' annualised Sharpe ratios (None for one).
        expected_max_sharpe: Annualised Sharpe ratio the best of ``n_trials`` skill-less
            trials reaches on average (0 for one trial).
        dsr: Probability that the true Sharpe ratio exceeds ``expected_max_sharpe``: the
            deflated Sharpe ratio. Above 0.95, the skill is significant at 5%.
        trial_index: Column of the trials that was selected, when the trials were given.
    """

    sharpe: float
    sharpe_per_period: float
    n_obs: int
    skew: float
    kurtosis: float
    periods_per_year: float
    benchmark_sharpe: float
    psr: float
    n_trials: int
    trial_sharpe_variance: float | None
    expected_max_sharpe: float
    dsr: float
    trial_index: int | None = None


def probabilistic_sharpe_ratio(
    sharpe: float, benchmark: float, *, n_obs: int, skew: float, kurtosis: float
) -> float:
    """Probability that the true Sharpe ratio exceeds ``benchmark`` (Bailey & López de Prado 2012).

    Both ratios are *per period* (not annualised): the formula weighs them by ``sqrt(n_obs - 1)``.

    Args:
        sharpe: Estimated per-period Sharpe ratio.
        benchmark: Per-period threshold ``SR*``.
        n_obs: Number of returns behind the estimate (>= 2).
        skew: Skewness of the returns.
        kurtosis: Kurtosis of the returns, not in excess (3 for normal returns).

    Returns:
        ``PSR(SR*)`` in [0, 1].

    Raises:
        EvaluationError: If ``n_obs < 2`` or the moments give no positive variance.

    Examples:
        >>> round(probabilistic_sharpe_ratio(0.1, 0.0, n_obs=101, skew=0.0, kurtosis=3.0), 4)
        0.8407
    """
    check_count(n_obs, "n_obs", minimum=2)
    for name, value in (("sharpe", sharpe), ("benchmark", benchmark), ("skew", skew)):
        if not math.isfinite(value):
            raise EvaluationError(f"{name}={value!r} must be a finite number.")
    check_positive(kurtosis, "kurtosis")
    var = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if not var > 0.0:
        raise EvaluationError(
            f"skew={skew!r} and kurtosis={kurtosis!r} give the Sharpe ratio {sharpe!r} a "
            f"non-positive variance ({var!r}); kurtosis must exceed skew**2 + 1 "
            "(returns with more than two distinct values)."
        )
    z = (sharpe - benchmark) * math.sqrt(n_obs - 1.0) / math.sqrt(var)
    return _NORMAL.cdf(z)


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """Expected maximum Sharpe ratio of ``n_trials`` skill-less trials (Bailey & LdP 2014, eq. 2).

    The result is in the units of ``sharpe_variance`` (annualised in, annualised out).

    Args:
        n_trials: Number of independent trials (>= 1). One trial selects nothing: 0.
        sharpe_variance: Variance of the trials' estimated Sharpe ratios (>= 0).

    Returns:
        ``sqrt(V) * ((1 - g) * Phi^-1(1 - 1/N) + g * Phi^-1(1 - 1/(N e)))``, g = Euler-Mascheroni.

    Raises:
        EvaluationError: If ``n_trials < 1`` or the variance is negative or not finite.

    Examples:
        >>> round(expected_max_sharpe(100, 0.5), 3)  # 100 trials, annualised variance 1/2
        1.789
    """
    check_count(n_trials, "n_trials")
    check_positive(sharpe_variance, "sharpe_variance", allow_zero=True)
    if n_trials == 1:
        return 0.0
    g = EULER_MASCHERONI
    z = (1.0 - g) * _NORMAL.inv_cdf(1.0 - 1.0 / n_trials) + g * _NORMAL.inv_cdf(
        1.0 - 1.0 / (n_trials * math.e)
    )
    return math.sqrt(sharpe_variance) * z


def _moments(r: np.ndarray, name: str) -> tuple[float, float, float]:
    """Per-period Sharpe ratio, skewness and kurtosis of ``r``."""
    mean = float(r.mean())
    std = float(r.std(ddof=1))
    if not std > 0.0:
        raise EvaluationError(
            f"{name} are constant ({mean!r} every period): the Sharpe ratio is undefined. "
            "Check that the strategy traded at all."
        )
    dev = r - mean
    m2 = float(np.mean(dev**2))
    skew = float(np.mean(dev**3)) / m2**1.5
    kurt = float(np.mean(dev**4)) / m2**2
    return mean / std, skew, kurt


def sharpe_test(
    returns: Any,
    *,
    periods_per_year: float,
    benchmark_sharpe: float = 0.0,
    n_trials: int = 1,
    trial_sharpe_variance: float | None = None,
) -> SharpeTest:
    """Sharpe ratio of one return series with its PSR and, after ``n_trials`` trials, its DSR.

    Args:
        returns: Per-period simple returns (array or Series), at least 2, all finite.
        periods_per_year: Annualisation factor (e.g. :func:`axon_lab.backtest.bars_per_year`).
        benchmark_sharpe: Annualised threshold of the PSR (0: "is there any skill").
        n_trials: Number of strategies tried to find this one (an evaluation's sweep size or
            :func:`n_trials_from_study`).
        trial_sharpe_variance: Variance of the trials' *annualised* Sharpe ratios; required
            when ``n_trials > 1`` (:func:`deflated_sharpe` estimates it from the trials).

    Returns:
        A :class:`SharpeTest`.

    Raises:
        EvaluationError: On bad returns (NaN, < 2 values, constant), ``n_trials < 1``, a
            missing or negative variance, or a non-positive ``periods_per_year``.

    Examples:
        >>> import numpy as np
        >>> r = np.random.default_rng(0).normal(0.001, 0.01, 1000)
        >>> t = sharpe_test(r, periods_per_year=252, n_trials=20, trial_sharpe_variance=0.5)
        >>> round(t.sharpe, 2), round(t.psr, 2), round(t.dsr, 2)  # skill, until 20 were tried
        (0.84, 0.95, 0.16)
    """
    ppy = check_positive(periods_per_year, "periods_per_year")
    r = as_vector(returns, "returns")
    check_count(n_trials, "n_trials")
    if not math.isfinite(benchmark_sharpe):
        raise EvaluationError(f"benchmark_sharpe={benchmark_sharpe!r} must be a finite number.")
    if n_trials > 1 and trial_sharpe_variance is None:
        raise EvaluationError(
            f"n_trials={n_trials} needs trial_sharpe_variance (the variance of the trials' "
            "annualised Sharpe ratios); or pass the trials' returns to deflated_sharpe()."
        )
    if trial_sharpe_variance is not None:
        check_positive(trial_sharpe_variance, "trial_sharpe_variance", allow_zero=True)
    sr, skew, kurt = _moments(r, "returns")
    root = math.sqrt(ppy)
    psr = probabilistic_sharpe_ratio(
        sr, benchmark_sharpe / root, n_obs=r.size, skew=skew, kurtosis=kurt
    )
    sr0 = expected_max_sharpe(n_trials, trial_sharpe_variance or 0.0)
    dsr = probabilistic_sharpe_ratio(sr, sr0 / root, n_obs=r.size, skew=skew, kurtosis=kurt)
    return SharpeTest(
        sharpe=sr * root,
        sharpe_per_period=sr,
        n_obs=int(r.size),
        skew=skew,
        kurtosis=kurt,
        periods_per_year=ppy,
        benchmark_sharpe=float(benchmark_sharpe),
        psr=psr,
        n_trials=n_trials,
        trial_sharpe_variance=trial_sharpe_variance,
        expected_max_sharpe=sr0,
        dsr=dsr,
    )


def deflated_sharpe(
    trial_returns: Any,
    *,
    periods_per_year: float,
    n_trials: int | None = None,
    benchmark_sharpe: float = 0.0,
) -> SharpeTest:
    """Deflated Sharpe ratio of the best of several trials (Bailey & López de Prado 2014).

    The trial with the highest Sharpe ratio is selected; the variance of all trials' annualised
    Sharpe ratios (``ddof=1``) sets the threshold the best of that many skill-less trials would
    reach, and the DSR is the probability that the selected trial's true Sharpe ratio beats it.

    Args:
        trial_returns: Returns, rows = periods, columns = trials (a DataFrame or 2-D array).
        periods_per_year: Annualisation factor.
        n_trials: Number of trials run, when more were tried than are given here (e.g.
            :func:`n_trials_from_study`); default: the number of columns.
        benchmark_sharpe: Annualised threshold of the PSR.

    Returns:
        The selected trial's :class:`SharpeTest`, with ``trial_index`` set.

    Raises:
        EvaluationError: On a bad matrix (NaN, < 2 periods or trials, a constant column), or
            ``n_trials`` below the number of columns.

    Examples:
        >>> import numpy as np
        >>> noise = np.random.default_rng(1).normal(0.0, 0.01, (750, 30))
        >>> t = deflated_sharpe(noise, periods_per_year=252)
        >>> t.n_trials, t.sharpe > 0, t.dsr < 0.95  # the best of 30 noise trials is not skill
        (30, True, True)
    """
    m = as_matrix(trial_returns, "trial_returns", min_cols=2)
    n_cols = m.shape[1]
    n = n_cols if n_trials is None else check_count(n_trials, "n_trials")
    if n < n_cols:
        raise EvaluationError(
            f"n_trials={n} is fewer than the {n_cols} trials given; pass the number of trials "
            "actually run (at least the number of columns)."
        )
    ppy = check_positive(periods_per_year, "periods_per_year")
    std = m.std(axis=0, ddof=1)
    if not (std > 0).all():
        col = int(np.argmin(std))
        raise EvaluationError(
            f"trial_returns column {col} is constant: its Sharpe ratio is undefined. "
            "Drop trials that never traded."
        )
    sharpes = m.mean(axis=0) / std * math.sqrt(ppy)
    best = int(np.argmax(sharpes))
    test = sharpe_test(
        m[:, best],
        periods_per_year=ppy,
        benchmark_sharpe=benchmark_sharpe,
        n_trials=n,
        trial_sharpe_variance=float(np.var(sharpes, ddof=1)),
    )
    return replace(test, trial_index=best)
