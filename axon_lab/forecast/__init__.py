"""Forecast models as observation features: walk-forward GARCH volatility and direction.

The only public API is what this module exports. ``arch`` (a core dependency) is imported at the
first fit.

Examples:
    >>> from axon_lab.forecast import FORECAST_FEATURES, Forecasts
    >>> Forecasts(horizon=24, refit_every=500)
    Forecasts(horizon=24, refit_every=500, train_window=1000, vol=True, direction=True)
    >>> FORECAST_FEATURES[:2]
    ('fc_vol', 'fc_vol_lo')
"""

from axon_lab.forecast._forecasts import FORECAST_FEATURES, Forecasts

__all__ = ["FORECAST_FEATURES", "Forecasts"]
