"""Loading a :class:`~axon_lab.data.Universe` from files, or making a synthetic one.

A folder of per-symbol files, a long-format file, or seeded synthetic symbols. The missing-bar
policy is stated in :mod:`axon_lab.data.universe`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from axon_lab.data.frame import Timeframe, TimeframeLike
from axon_lab.data.loaders import _build, _find, _read_csv, _read_parquet, load_ohlcv
from axon_lab.data.report import DataRepairWarning
from axon_lab.data.synthetic import make_synthetic
from axon_lab.data.universe import Universe, align_universe
from axon_lab.data.validation import Policy
from axon_lab.errors import ConfigError, DataError

__all__ = ["load_universe", "make_synthetic_universe"]

_SUFFIXES = (".csv", ".parquet", ".pq", ".gz", ".zip", ".bz2", ".xz")


def load_universe(
    path: str | PathLike[str],
    *,
    symbols: Sequence[str] | None = None,
    timeframe: TimeframeLike | None = None,
    validation: Policy = "repair",
    tz: str = "UTC",
    columns: Mapping[str, str] | None = None,
) -> Universe:
    r"""Load many symbols from a folder of per-symbol files or one long-format file.

    * A **folder**: every ``.csv`` (also compressed) and ``.parquet`` file in it is one symbol;
      the symbol is the file's ``symbol``/``ticker`` column when it has one, else the file name
      before the first dot (``AAPL.csv`` -> ``AAPL``).
    * A **file**: long format, with a ``symbol`` (or ``ticker``) column naming each row's
      symbol; the file is read once and split by symbol.

    Each symbol is parsed and validated as :func:`~axon_lab.data.load_ohlcv` would (same column
    spellings, same repairs), then aligned on one clock (:func:`align_universe`).

    Args:
        path: A folder or a long-format CSV / Parquet file.
        symbols: Keep only these symbols (default: all).
        timeframe: The shared bar duration (detected per symbol when None; they must agree).
        validation: ``"repair"`` or ``"strict"``, per symbol.
        tz: Zone in which naive timestamps are interpreted.
        columns: Explicit column mapping, as in :func:`~axon_lab.data.load_csv`.

    Returns:
        The :class:`Universe`, with each symbol's report in ``reports``.

    Raises:
        DataError: Missing path, an empty folder, a file without a symbol column, a requested
            symbol that is absent, or (strict) invalid bars.

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "long.csv"
        >>> _ = p.write_text("ticker,date,o,h,l,c,v\nA,2024-01-02,1,2,1,2,5\n"
        ...                  "B,2024-01-03,3,4,3,4,5\nA,2024-01-03,2,3,2,3,5\n")
        >>> uni = load_universe(p, timeframe="1d")
        >>> uni.symbols, uni.close.tolist()
        (('A', 'B'), [[2.0, nan], [3.0, 4.0]])
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"{str(p)!r} does not exist. Pass a folder of per-symbol files or a file.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataRepairWarning)
        if p.is_dir():
            frames = _load_folder(p, symbols, timeframe, validation, tz, columns)
        else:
            frames = _load_long(p, symbols, timeframe, validation, tz, columns)
    others = [w for w in caught if not issubclass(w.category, DataRepairWarning)]
    for w in others:  # re-emit anything that is not a per-symbol repair notice
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return align_universe(frames, timeframe=timeframe, validation=validation)


def _load_folder(
    folder: Path,
    symbols: Sequence[str] | None,
    timeframe: TimeframeLike | None,
    validation: Policy,
    tz: str,
    columns: Mapping[str, str] | None,
) -> dict[str, pd.DataFrame]:
    files = sorted(
        f for f in folder.iterdir()
        if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in _SUFFIXES
    )  # fmt: skip
    if not files:
        raise DataError(
            f"{str(folder)!r} holds no .csv or .parquet files. Put one file per symbol there "
            "(AAPL.csv, MSFT.csv, ...) or pass a long-format file with a symbol column."
        )
    frames: dict[str, pd.DataFrame] = {}
    for f in files:
        frame = load_ohlcv(f, timeframe=timeframe, validation=validation, tz=tz, columns=columns)
        sym = str(frame.attrs["symbol"])
        if sym in frames:
            raise DataError(
                f"{str(f)!r} holds symbol {sym!r}, which another file in {str(folder)!r} holds "
                "too. Keep one file per symbol."
            )
        frames[sym] = frame
    return _pick(frames, symbols, str(folder))


def _load_long(
    path: Path,
    symbols: Sequence[str] | None,
    timeframe: TimeframeLike | None,
    validation: Policy,
    tz: str,
    columns: Mapping[str, str] | None,
) -> dict[str, pd.DataFrame]:
    where = str(path)
    if path.stat().st_size == 0:
        raise DataError(f"{where!r} is empty (0 bytes). Check that the download finished.")
    is_parquet = path.suffix.lower() in (".parquet", ".pq")
    raw = _read_parquet(path, where) if is_parquet else _read_csv(path, where)
    sym_col = (columns or {}).get("symbol") or _find([str(c) for c in raw.columns], "symbol")
    if sym_col is None or sym_col not in raw.columns:
        raise DataError(
            f"{where}: no symbol column (looked for 'symbol' or 'ticker' among "
            f"{[str(c) for c in raw.columns]}). A long-format file needs one; for one symbol per "
            "file, put the files in a folder and pass the folder."
        )
    tickers = raw[sym_col].astype("string").str.strip()
    present = [str(s) for s in pd.unique(tickers.dropna())]
    wanted = _pick(dict.fromkeys(present), symbols, where)
    frames = {}
    for sym in wanted:
        part = raw.loc[(tickers == sym).to_numpy()]
        frames[sym] = _build(
            part, where=f"{where} [{sym}]", source=where, symbol=sym, timeframe=timeframe,
            validation=validation, tz=tz, time_format=None, mixed_offsets="raise",
            columns=columns, stacklevel=4,
        )  # fmt: skip
    return frames


def _pick(frames: dict[str, Any], symbols: Sequence[str] | None, where: str) -> dict[str, Any]:
    if symbols is None:
        return frames
    if isinstance(symbols, str):
        raise ConfigError(f"symbols must be a list of symbols, got the string {symbols!r}.")
    missing = [s for s in symbols if s not in frames]
    if missing:
        raise DataError(
            f"{where}: symbol(s) {missing} not found; it holds {sorted(frames)[:20]}. Fix the "
            "symbols= list."
        )
    return {s: frames[s] for s in symbols}


def make_synthetic_universe(
    n_symbols: int,
    n_bars: int,
    *,
    timeframe: TimeframeLike = "1d",
    start: str | pd.Timestamp = "2020-01-01",
    seed: int,
    prefix: str = "S",
    listings: bool = False,
) -> Universe:
    """A universe of seeded synthetic symbols (each one :func:`~axon_lab.data.make_synthetic`).

    Args:
        n_symbols: Number of symbols (>= 1), named ``S000``, ``S001``, ...
        n_bars: Bars on the clock (>= 1).
        timeframe: Bar duration.
        start: Open time of the first bar.
        seed: Seed; symbol ``i`` uses ``seed + i``.
        prefix: Symbol name prefix.
        listings: When True, every fifth symbol lists late, every seventh delists early and
            every third has a few halted bars, so the missing-bar policy is exercised.

    Returns:
        The universe.

    Examples:
        >>> make_synthetic_universe(3, 10, seed=0).close.shape
        (10, 3)
    """
    for name, value in (("n_symbols", n_symbols), ("n_bars", n_bars)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be an int >= 1, got {value!r}.")
    width = max(3, len(str(n_symbols - 1)))
    rng = np.random.default_rng(seed)
    frames: dict[str, pd.DataFrame] = {}
    for i in range(n_symbols):
        sym = f"{prefix}{i:0{width}d}"
        frame = make_synthetic(
            n_bars, timeframe=timeframe, start=start, seed=seed + i, symbol=sym,
            start_price=float(rng.uniform(20.0, 200.0)), mean_duration=100.0,
        )  # fmt: skip
        if listings and n_bars >= 20:
            keep = np.ones(n_bars, dtype=bool)
            if i % 5 == 4:
                keep[: n_bars // 4] = False
            if i % 7 == 6:
                keep[3 * n_bars // 4 :] = False
            if i % 3 == 2:
                keep[rng.choice(np.arange(n_bars // 4, 3 * n_bars // 4), 3, replace=False)] = False
            frame = frame.loc[keep]
            # (no report: align_universe validates the cut frame again and flags its halts)
            frame.attrs = {"symbol": sym, "timeframe": Timeframe.parse(timeframe).label}
        frames[sym] = frame
    return align_universe(frames, timeframe=timeframe)
