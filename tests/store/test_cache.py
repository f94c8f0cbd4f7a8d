from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from c2rag.store.cache import EmbeddingCache, cache_key


def test_put_get_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "cache.sqlite"
    rng = np.random.default_rng(0)
    vectors = {
        cache_key("model-a", f"h{i}"): rng.standard_normal(8).astype(np.float32) for i in range(5)
    }
    with EmbeddingCache(path) as cache:
        cache.put_many(vectors)
        assert len(cache) == 5
    with EmbeddingCache(path) as cache:
        found = cache.get_many([*vectors, "missing"])
    assert set(found) == set(vectors)
    for key, vector in vectors.items():
        np.testing.assert_array_equal(found[key], vector)
        assert found[key].dtype == np.float32


def test_keys_separate_models() -> None:
    assert cache_key("model-a", "h") != cache_key("model-b", "h")
    assert cache_key("model-a", "h") == cache_key("model-a", "h")


def test_many_keys_span_several_queries(tmp_path: Path) -> None:
    with EmbeddingCache(tmp_path / "c.sqlite") as cache:
        cache.put_many([(f"k{i}", np.full(2, i, dtype=np.float32)) for i in range(2500)])
        found = cache.get_many(f"k{i}" for i in range(0, 2600))
    assert len(found) == 2500
    assert found["k2499"][0] == 2499


def test_vectors_survive_a_killed_writer(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    script = textwrap.dedent(
        f"""
        import os, signal, numpy as np
        from c2rag.store.cache import EmbeddingCache
        cache = EmbeddingCache({str(path)!r})
        cache.put_many({{"k": np.arange(4, dtype=np.float32)}})
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=Path.cwd(), check=False)
    assert proc.returncode == -9
    with EmbeddingCache(path) as cache:
        np.testing.assert_array_equal(cache.get_many(["k"])["k"], np.arange(4, dtype=np.float32))
