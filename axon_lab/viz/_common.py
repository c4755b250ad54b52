"""Helpers shared by the figure modules: lazy plotly, input checks, bar alignment, styling.

Nothing here imports plotly at module level; :func:`graph_objects` and :func:`make_subplots` import
it at the point of use, so ``import axon_lab.viz`` stays light.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from axon_lab._imports import require
from axon_lab.errors import ConfigError
from axon_lab.records import StepRecord

__all__ = [
    "align_to_bars",
    "check_bar_frame",
    "check_steps",
    "graph_objects",
    "make_subplots",
    "unknown_column",
]

_PURPOSE = "axon_lab.viz figures"


def graph_objects() -> Any:
    """Import and return ``plotly.graph_objects`` (a core dependency, imported lazily)."""
    return require("plotly.graph_objects", "core", purpose=_PURPOSE)


def make_subplots(**kwargs: Any) -> Any:
    """Call ``plotly.subplots.make_subplots(**kwargs)`` after importing plotly lazily."""
    return require("plotly.subplots", "core", purpose=_PURPOSE).make_subplots(**kwargs)


def unknown_column(
    role: str, name: object, available: Iterable[object], *, required: bool = False, fix: str = ""
) -> ConfigError:
    """Build the error for a column that is not there, with a hint at the closest name.

    Args:
        role: For a column the caller chose (``required=False``), the argument that named it,
            e.g. ``"x"``; for a column the caller's data must have, what that data is.
        name: The missing column.
        available: The columns that exist.
        required: Whether the data must have the column (then the fix is to rename one) or the
            caller chose it (then the fix is to choose an existing one).
        fix: Extra advice appended to the message.

    Returns:
        A :class:`ConfigError` naming the value, the available columns and the fix.
    """
    names = [str(c) for c in available]
    close = difflib.get_close_matches(str(name), names, n=1)
    if required:
        hint = f" Rename {close[0]!r} to {name!r}." if close else ""
        text = f"{role} has no {name!r} column; its columns are {names}.{hint}"
    else:
        hint = f" Did you mean {close[0]!r}?" if close else ""
        text = (
            f"{role} column {name!r} is not in the frame; available columns: {names}.{hint} "
            f"Pass one of the available columns as {role}=..."
        )
    return ConfigError(text + (f" {fix}" if fix else ""))


def check_steps(steps: Sequence[StepRecord], *, what: str = "steps") -> list[StepRecord]:
    """Check a sequence of one run's steps and return them ordered by step number.

    Args:
        steps: Step records, e.g. ``ExplainStore.steps(run_id)``.
        what: The argument's name, for error messages.

    Returns:
        The steps sorted by ``step``.

    Raises:
        ConfigError: If ``steps`` is empty, holds something other than a StepRecord, mixes runs,
            repeats a step number, or goes back in time as the step number grows.
    """
    if isinstance(steps, StepRecord | str | bytes) or not isinstance(steps, Iterable):
        raise ConfigError(
            f"{what} must be a sequence of StepRecord, got {type(steps).__name__}; "
            "pass e.g. store.steps(run_id) or a list of records."
        )
    items = list(steps)
    if not items:
        raise ConfigError(
            f"{what} is empty; there is nothing to plot. Pass the steps of a run that has "
            "recorded at least one step (store.steps(run_id))."
        )
    for i, item in enumerate(items):
        if not isinstance(item, StepRecord):
            raise ConfigError(
                f"{what}[{i}] is a {type(item).__name__}, not a StepRecord; pass records as "
                "returned by ExplainStore.steps(run_id) or OADERLoop.step()."
            )
    runs = sorted({s.run_id for s in items})
    if len(runs) > 1:
        raise ConfigError(
            f"{what} mixes {len(runs)} runs {runs}; plot one run at a time, e.g. "
            f"store.steps({runs[0]!r})."
        )
    ordered = sorted(items, key=lambda s: s.step)
    for prev, cur in itertools.pairwise(ordered):
        if cur.step == prev.step:
            raise ConfigError(
                f"{what} holds step {cur.step} twice in run {cur.run_id!r}; drop the duplicate."
            )
        if cur.timestamp < prev.timestamp:
            raise ConfigError(
                f"{what}: step {cur.step} at {cur.timestamp.isoformat()} is earlier than step "
                f"{prev.step} at {prev.timestamp.isoformat()}; step numbers and timestamps must "
                "increase together."
            )
    return ordered


def check_bar_frame(frame: pd.DataFrame, columns: Sequence[str], *, what: str = "frame") -> None:
    """Check that ``frame`` is a non-empty, sorted, UTC-indexed bar frame with ``columns``.

    Args:
        frame: A canonical OHLCV frame (or any frame with a UTC DatetimeIndex).
        columns: Columns the caller reads.
        what: The argument's name, for error messages.

    Raises:
        ConfigError: Naming the problem and the fix.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(
            f"{what} must be a pandas DataFrame of bars, got {type(frame).__name__}; load one "
            "with axon_lab.data.load_ohlcv(...) or load_sample(...)."
        )
    if not isinstance(frame.index, pd.DatetimeIndex) or frame.index.tz is None:
        raise ConfigError(
            f"{what} needs a timezone-aware DatetimeIndex (bar open times in UTC), got "
            f"{type(frame.index).__name__}; build it with axon_lab.data.make_canonical(...)."
        )
    if len(frame) == 0:
        raise ConfigError(f"{what} has no bars; pass a frame with at least one bar.")
    if not frame.index.is_monotonic_increasing:
        raise ConfigError(f"{what}'s index is not sorted; sort it with frame.sort_index().")
    for col in columns:
        if col not in frame.columns:
            raise unknown_column(what, col, frame.columns, required=True)


def align_to_bars(
    index: pd.DatetimeIndex, timestamps: Sequence[pd.Timestamp], *, what: str
) -> np.ndarray:
    """Position of the latest bar that opened at or before each timestamp.

    Args:
        index: Sorted, timezone-aware bar open times.
        timestamps: Times to place on the bars (e.g. step timestamps).
        what: What the timestamps belong to, for error messages.

    Returns:
        An int64 array of bar positions, one per timestamp.

    Raises:
        ConfigError: If a timestamp is before the first bar, or more than one bar spacing after
            the last bar (the frame and the steps then cover different periods).
    """
    stamps = pd.DatetimeIndex(list(timestamps)).tz_convert("UTC")
    pos = np.asarray(index.get_indexer(stamps, method="pad"), dtype=np.int64)
    early = np.flatnonzero(pos < 0)
    if early.size:
        first = stamps[int(early[0])]
        raise ConfigError(
            f"{what} at {first.isoformat()} is before the first bar ({index[0].isoformat()}); "
            "pass a frame that covers the whole run."
        )
    if len(index) > 1:
        spacing = index[-1] - index[-2]
        late = np.flatnonzero(stamps > index[-1] + spacing)
        if late.size:
            last = stamps[int(late[0])]
            raise ConfigError(
                f"{what} at {last.isoformat()} is after the last bar ({index[-1].isoformat()}) "
                "by more than one bar; pass a frame that covers the whole run."
            )
    return pos
