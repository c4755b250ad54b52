"""What evaluate() is given: its data (one frame per symbol) and its store (a URL)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from axon_lab.errors import ConfigError

__all__ = ["load_frames", "store_url"]


def load_frames(data: Any) -> dict[str, pd.DataFrame]:
    """One OHLCV frame per symbol from what ``evaluate(data=...)`` accepts."""
    from axon_lab.oader import load_data

    items: Iterable[Any]
    if isinstance(data, Mapping):
        items = list(data.values())
    elif isinstance(data, str | Path | pd.DataFrame):
        items = [data]
    elif isinstance(data, Sequence):
        items = list(data)
    else:
        raise ConfigError(
            f"data must be a sample name, a file path, an OHLCV frame, or a list/dict of them, got "
            f"{type(data).__name__}"
        )
    frames: dict[str, pd.DataFrame] = {}
    for item in items:
        frame = item if isinstance(item, pd.DataFrame) else load_data(item)[0]
        symbol = str(frame.attrs.get("symbol") or "")
        if not symbol:
            raise ConfigError(
                "an OHLCV frame without attrs['symbol'] cannot be evaluated; set "
                "frame.attrs['symbol'] = 'NAME'"
            )
        if symbol in frames:
            raise ConfigError(f"symbol {symbol!r} is given twice; pass each symbol once")
        frames[symbol] = frame
    if not frames:
        raise ConfigError("data is empty; pass at least one sample name, file or frame")
    return frames


def store_url(store: Any) -> str:
    """The URL of ``store`` (a URL, an ExplainStore, or None for the default)."""
    from axon_lab.explain import DEFAULT_URL, ExplainStore

    if store is None:
        return DEFAULT_URL
    if isinstance(store, ExplainStore):
        return store.url
    if isinstance(store, str):
        return store
    raise ConfigError(f"store must be a URL or an ExplainStore, got {type(store).__name__}")
