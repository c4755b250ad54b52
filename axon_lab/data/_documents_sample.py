"""A small generated document sample for tests and notebooks: :func:`make_documents`.

Deterministic (a seed), generated at run time from the bars it accompanies, no download. Each
symbol item reports the move over the bars *complete when it is published* (so the text itself
never peeks ahead); market-wide items come from a short list of generic headlines. The sample
exercises the text channel (point-in-time serving, the token budget, the input guard); it carries
no planted edge.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from axon_lab.errors import ConfigError

__all__ = ["make_documents"]

_MARKET = (
    ("Central bank keeps its policy rate on hold", "Policy makers left rates unchanged."),
    ("Inflation print comes in close to forecasts", "Consumer prices rose in line with surveys."),
    ("Exchange reports record trading volumes", "Activity picked up across listed venues."),
    ("Regulator opens consultation on market data", "Comments are invited from participants."),
)


def make_documents(
    frame: pd.DataFrame,
    *,
    n: int = 40,
    seed: int = 0,
    lookback: int = 24,
    market_share: float = 0.25,
) -> pd.DataFrame:
    """Generate ``n`` time-stamped documents about ``frame``'s symbol, as a file would hold them.

    Args:
        frame: A canonical OHLCV frame (``attrs["symbol"]`` names its symbol).
        n: How many documents.
        seed: Seed of the generator (same seed, same documents).
        lookback: Bars the move in a symbol item is measured over.
        market_share: Share of market-wide items (no symbol).

    Returns:
        Columns ``id, published_at (ISO 8601, UTC), symbols, title, text, source``, sorted by
        time; write it with ``to_json(path, orient="records", lines=True)`` or ``to_csv``.

    Raises:
        ConfigError: For a bad count, share or a frame too short for ``lookback``.

    Examples:
        >>> from axon_lab.data import make_synthetic
        >>> docs = make_documents(make_synthetic(200, timeframe="1h", seed=1, symbol="SYN"), n=5)
        >>> len(docs), list(docs.columns)[:3]
        (5, ['id', 'published_at', 'symbols'])
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"n must be an int >= 1, got {n!r}")
    if not 0.0 <= market_share <= 1.0:
        raise ConfigError(f"market_share must be in [0, 1], got {market_share!r}")
    if len(frame) <= lookback + 1:
        raise ConfigError(
            f"the frame has {len(frame)} bars; make_documents needs more than lookback + 1 = "
            f"{lookback + 1}"
        )
    symbol = str(frame.attrs.get("symbol") or "SYN")
    rng = np.random.default_rng(seed)
    index = pd.DatetimeIndex(frame.index)
    step = index[1] - index[0]
    closes = frame["close"].to_numpy(dtype=np.float64)
    # publication times: between the first bar that has `lookback` complete bars and the end
    lo, hi = index[lookback].value + step.value, index[-1].value + step.value
    stamps = np.sort(rng.integers(lo, hi, size=n))
    rows = []
    for i, ns in enumerate(stamps.tolist()):
        at = pd.Timestamp(int(ns), tz="UTC").floor("s")
        if rng.random() < market_share:
            title, text = _MARKET[int(rng.integers(len(_MARKET)))]
            rows.append((f"doc-{i:04d}", at, "", title, text, "wire"))
            continue
        done = int(np.searchsorted(index.asi8 + step.value, at.value, side="right"))  # complete
        move = closes[done - 1] / closes[done - 1 - lookback] - 1.0
        pct = f"{abs(move):.1%}"
        if move > 0.01:
            title, text = f"{symbol} rallies {pct}", f"{symbol} gained {pct} over {lookback} bars."
        elif move < -0.01:
            title, text = f"{symbol} slides {pct}", f"{symbol} lost {pct} over {lookback} bars."
        else:
            title, text = (
                f"{symbol} trades flat",
                f"{symbol} moved {move:+.1%} over {lookback} bars.",
            )
        rows.append((f"doc-{i:04d}", at, symbol, title, text, "desk"))
    out = pd.DataFrame(rows, columns=["id", "published_at", "symbols", "title", "text", "source"])
    out["published_at"] = [t.isoformat() for t in out["published_at"]]
    return out
