"""Retrieval memory: past contexts and their outcomes, retrieved point-in-time into the observation.

The only public API is what this module exports. The text embedder's model (sentence-transformers,
torch) and usearch are imported only when used (extra ``memory``).

Examples:
    >>> from axon_lab.memory import Memory
    >>> Memory("btc-15m", k=5, horizon=24)
    Memory('btc-15m', embedder='features:returns16', k=5, horizon=24, entries=0)
"""

from axon_lab.memory._callback import MemoryCallback
from axon_lab.memory._embed import ContextEmbedder, FeatureEmbedder, TextEmbedder, context_summary
from axon_lab.memory._index import IndexBackend, VectorIndex
from axon_lab.memory._memory import Memory

__all__ = [
    "Memory",
    "MemoryCallback",
    # embedders
    "ContextEmbedder",
    "FeatureEmbedder",
    "TextEmbedder",
    "context_summary",
    # search
    "IndexBackend",
    "VectorIndex",
]
