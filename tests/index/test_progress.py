"""The embedding progress bar counts tokens, longest texts first, so its ETA is not too early."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from c2rag.store.cache import EmbeddingCache
from c2rag.store.vectors import VectorSource


def test_embed_progress_is_measured_in_tokens(
    counting: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = {f"h{i}": "def f():\n" + "    x = x + 1\n" * n for i, n in enumerate([1, 12, 3, 30, 7])}
    source = VectorSource(
        EmbeddingCache(tmp_path / "cache"), counting, batch_size=2, show_progress=True
    )
    stats = source.ensure(texts)
    total = sum(counting.count_tokens(t) for t in texts.values())
    assert stats.tokens_embedded == total
    lengths = [counting.count_tokens(t) for t in counting.texts]
    assert lengths == sorted(lengths, reverse=True)  # longest first
    bar = capsys.readouterr().err
    assert f"{total}/{total}" in bar and "tok/s" in bar
