"""Two real repositories that share a file, and snapshots of what a store holds for one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from c2rag.store import IndexStore, StoreLocation
from tests.fixtures.repos import ScratchRepo


def functions(prefix: str, count: int) -> str:
    """``count`` small functions of varied lengths (so that batches differ in padding)."""
    parts = []
    for i in range(count):
        body = "".join(f"    total = total + {j} * value\n" for j in range(i % 7))
        parts.append(f"def {prefix}_{i}(value):\n    total = {i}\n{body}    return total\n")
    return "\n\n".join(parts)


SHARED = functions("shared", 12)


@pytest.fixture
def two_repos(make_repo: Callable[..., ScratchRepo]) -> tuple[ScratchRepo, ScratchRepo]:
    """``alpha`` and ``beta``; ``beta`` vendors ``alpha``'s util.py under another path."""
    alpha = make_repo(
        "alpha",
        files={"pkg/util.py": SHARED, "pkg/alpha.py": functions("alpha", 8)},
    )
    beta = make_repo(
        "beta",
        files={"lib/util_copy.py": SHARED, "src/beta.py": functions("beta", 10)},
    )
    return alpha, beta


def snapshot(repo_root: Path, store_dir: Path) -> dict[str, tuple[str, dict[str, Any], np.ndarray]]:
    """Every record of the repository's collection: id → (text, metadata, vector)."""
    store = IndexStore.open(StoreLocation.for_repo(repo_root, store_dir=store_dir))
    try:
        got = store.collection.get(include=["documents", "metadatas", "embeddings"])
    finally:
        store.close()
    return {
        rid: (doc, dict(meta), np.asarray(vec, dtype=np.float32))
        for rid, doc, meta, vec in zip(
            got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True
        )
    }


def assert_same_index(
    got: dict[str, tuple[str, dict[str, Any], np.ndarray]],
    want: dict[str, tuple[str, dict[str, Any], np.ndarray]],
) -> None:
    """Same ids, texts and metadata; vectors within 1e-6."""
    assert sorted(got) == sorted(want)
    for rid, (doc, meta, vector) in want.items():
        assert got[rid][0] == doc
        assert got[rid][1] == meta
        np.testing.assert_allclose(got[rid][2], vector, rtol=0, atol=1e-6)
