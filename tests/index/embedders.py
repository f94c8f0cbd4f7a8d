"""Embedder wrappers for index tests: they delegate every vector to a real encoder and only
watch (count what is sent) or interrupt (kill the process, wait for a signal file)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from c2rag.types import Embedder

__all__ = ["CountingEmbedder", "GatedEmbedder", "KillingEmbedder"]


class CountingEmbedder:
    """Implements the Embedder protocol by delegating to ``inner``; records every text
    sent to ``encode_documents``."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.texts: list[str] = []
        self.calls = 0

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    @property
    def legacy_fingerprints(self) -> tuple[str, ...]:
        return tuple(getattr(self.inner, "legacy_fingerprints", ()))

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def max_length(self) -> int:
        return self.inner.max_length

    @property
    def model_name(self) -> str:
        return str(getattr(self.inner, "model_name", "inner"))

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        self.calls += 1
        self.texts.extend(texts)
        return self.inner.encode_documents(texts, show_progress=show_progress)

    def encode_queries(
        self, texts: Sequence[str], *, task: str | None = None, instruction: str | None = None
    ) -> np.ndarray:
        return self.inner.encode_queries(texts, task=task, instruction=instruction)

    def reset(self) -> None:
        """Forget what was counted so far."""
        self.texts.clear()
        self.calls = 0


class KillingEmbedder(CountingEmbedder):
    """SIGKILLs its own process when asked for batch number ``kill_on_call`` (1-based), after
    the earlier batches were embedded (and cached by the indexer)."""

    def __init__(self, inner: Embedder, *, kill_on_call: int) -> None:
        super().__init__(inner)
        self.kill_on_call = kill_on_call

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if self.calls + 1 >= self.kill_on_call:
            os.kill(os.getpid(), signal.SIGKILL)
        return super().encode_documents(texts, show_progress=show_progress)


class GatedEmbedder(CountingEmbedder):
    """On its first call, creates ``started`` and waits until ``go`` exists: holds an
    indexer in the middle of its run while a test does something else."""

    def __init__(self, inner: Embedder, *, started: Path, go: Path, timeout_s: float = 120) -> None:
        super().__init__(inner)
        self.started, self.go, self.timeout_s = started, go, timeout_s

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if self.calls == 0:
            self.started.touch()
            deadline = time.monotonic() + self.timeout_s
            while not self.go.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        return super().encode_documents(texts, show_progress=show_progress)
