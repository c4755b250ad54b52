from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from axon_lab.backtest import sweep
from axon_lab.errors import ConfigError
from axon_lab.viz import get_sweep_heatmap_info, plot_sweep_heatmap


@pytest.fixture(scope="module")
def sma_sweep() -> pd.DataFrame:
    from axon_lab.data import make_synthetic

    bars = make_synthetic(300, timeframe="1h", seed=1)
    return sweep(bars, "sma_cross", {"fast": [5, 3], "slow": [30, 10, 20]})


@pytest.fixture
def three_params() -> pd.DataFrame:
    # fast x slow x stop; sharpe = fast + slow / 10 + stop * 100, one cell has a NaN
    rows = [
        {"fast": f, "slow": s, "stop": st, "sharpe": f + s / 10 + st * 100}
        for f in (2, 4)
        for s in (10, 20)
        for st in (0.01, 0.03)
    ]
    frame = pd.DataFrame(rows)
    frame.loc[(frame.fast == 4) & (frame.slow == 20) & (frame.stop == 0.03), "sharpe"] = np.nan
    return frame


def test_one_row_per_cell_pivots_to_the_rows_values(sma_sweep):
    info = get_sweep_heatmap_info(sma_sweep, "fast", "slow", "sharpe")
    assert info.x_values == [3, 5]
    assert info.y_values == [10, 20, 30]
    for i, slow in enumerate(info.y_values):
        for j, fast in enumerate(info.x_values):
            row = sma_sweep[(sma_sweep.fast == fast) & (sma_sweep.slow == slow)]
            assert info.z[i][j] == row["sharpe"].item()
    assert info.n_rows == [[1, 1], [1, 1], [1, 1]]
    assert info.varying == []


def test_other_varying_params_are_aggregated_and_reported(three_params):
    info = get_sweep_heatmap_info(three_params, "fast", "slow", "sharpe", params=["stop"])
    assert info.n_rows == [[2, 2], [2, 2]]
    assert info.varying == ["stop"]
    # mean over stop in {0.01, 0.03} adds 2; the (4, 20) cell has one NaN, skipped
    assert np.array(info.z) == pytest.approx(
        np.array([[2 + 1 + 2, 4 + 1 + 2], [2 + 2 + 2, 4 + 2 + 1]])
    )
    best = get_sweep_heatmap_info(three_params, "fast", "slow", "sharpe", agg="max")
    assert np.array(best.z) == pytest.approx(
        np.array([[2 + 1 + 3, 4 + 1 + 3], [2 + 2 + 3, 4 + 2 + 1]])
    )
    # without params= every other column that differs inside a cell is reported
    assert best.varying == ["stop"]


def test_fixed_pins_other_params(three_params):
    info = get_sweep_heatmap_info(three_params, "fast", "slow", "sharpe", fixed={"stop": 0.03})
    assert info.n_rows == [[1, 1], [1, 1]]
    assert info.varying == []
    assert info.z[0] == pytest.approx([2 + 1 + 3, 4 + 1 + 3])
    assert info.z[1][0] == pytest.approx(2 + 2 + 3)
    assert math.isnan(info.z[1][1])


def test_missing_combinations_are_nan_with_zero_rows(three_params):
    partial = three_params[~((three_params.fast == 2) & (three_params.slow == 20))]
    info = get_sweep_heatmap_info(partial, "fast", "slow", "sharpe")
    assert math.isnan(info.z[1][0])
    assert info.n_rows[1][0] == 0


def test_renderer_draws_one_heatmap_and_states_the_aggregation(sma_sweep, three_params):
    fig = plot_sweep_heatmap(sma_sweep, "fast", "slow", "sharpe")
    (trace,) = fig.data
    assert (trace.type, trace.name) == ("heatmap", "sharpe")
    assert list(trace.x) == ["3", "5"]
    assert list(trace.y) == ["10", "20", "30"]
    assert np.array(trace.z).shape == (3, 2)
    assert "mean" not in fig.layout.title.text
    agg = plot_sweep_heatmap(three_params, "fast", "slow", "sharpe", params=["stop"])
    assert (
        agg.layout.title.text
        == "sharpe by fast and slow: mean over up to 2 rows per cell (stop vary)"
    )


def test_bad_columns_name_the_available_ones(sma_sweep, three_params):
    with pytest.raises(
        ConfigError,
        match=r"metric column 'sharp' is not in the frame; available columns: "
        r"\['fast', 'slow', 'start_value'.*Did you mean 'sharpe'",
    ):
        get_sweep_heatmap_info(sma_sweep, "fast", "slow", "sharp")
    with pytest.raises(ConfigError, match=r"x column 'fst'.*Did you mean 'fast'"):
        get_sweep_heatmap_info(sma_sweep, "fst", "slow", "sharpe")
    with pytest.raises(ConfigError, match="three different columns"):
        get_sweep_heatmap_info(sma_sweep, "fast", "fast", "sharpe")
    with pytest.raises(ConfigError, match=r"agg must be one of \['mean', 'median', 'min', 'max'\]"):
        get_sweep_heatmap_info(sma_sweep, "fast", "slow", "sharpe", agg="sum")
    labelled = three_params.assign(label="a")
    with pytest.raises(ConfigError, match="metric column 'label' has dtype"):
        get_sweep_heatmap_info(labelled, "fast", "slow", "label")
    with pytest.raises(
        ConfigError,
        match=r"fixed=\{'stop': 0.02\} matches no row; 'stop' takes the values \[0.01, 0.03\]",
    ):
        get_sweep_heatmap_info(three_params, "fast", "slow", "sharpe", fixed={"stop": 0.02})
    with pytest.raises(ConfigError, match="fixed column 'stp'"):
        get_sweep_heatmap_info(three_params, "fast", "slow", "sharpe", fixed={"stp": 0.01})
    with pytest.raises(ConfigError, match="params column 'window'"):
        get_sweep_heatmap_info(three_params, "fast", "slow", "sharpe", params=["window"])
    with pytest.raises(ConfigError, match="no rows"):
        get_sweep_heatmap_info(three_params.iloc[:0], "fast", "slow", "sharpe")
    with pytest.raises(ConfigError, match="must be a pandas DataFrame"):
        get_sweep_heatmap_info(three_params.to_dict(), "fast", "slow", "sharpe")  # type: ignore[arg-type]
