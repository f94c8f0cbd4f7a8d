"""The shared model fixtures load and embed."""

from __future__ import annotations

import numpy as np


def test_tiny_encoder_embeds(tiny_encoder) -> None:
    vectors = tiny_encoder.encode_documents(["def f():\n    return 1", "x = 2"])
    assert vectors.shape == (2, 64)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_minilm_encoder_embeds(minilm_encoder) -> None:
    vectors = minilm_encoder.encode_queries(["read a file"])
    assert vectors.shape == (1, 384)
