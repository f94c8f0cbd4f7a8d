"""Embedding progress on the driver: tokens embedded, tokens per second, time left."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from tqdm.auto import tqdm

__all__ = ["TokenProgress"]

logger = logging.getLogger(__name__)


@dataclass
class _Rate:
    tokens: int = 0
    texts: int = 0
    batches: int = 0


class TokenProgress:
    """Counts finished batches against the planned total; logs a line per batch (INFO)
    and draws a tqdm bar in tokens when asked.

    Args:
        total_tokens: Tokens planned.
        total_texts: Texts planned.
        total_batches: Batches planned.
        show_progress: Draw a bar.
    """

    def __init__(
        self, total_tokens: int, total_texts: int, total_batches: int, *, show_progress: bool
    ) -> None:
        self.total_tokens = total_tokens
        self.total_texts = total_texts
        self.total_batches = total_batches
        self.done = _Rate()
        self._start = time.perf_counter()
        self._bar = tqdm(
            total=total_tokens, desc="embed", unit="tok", unit_scale=True, disable=not show_progress
        )

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._start

    @property
    def tokens_per_second(self) -> float:
        return self.done.tokens / self.elapsed if self.elapsed > 0 else 0.0

    def eta_seconds(self) -> float | None:
        """Seconds left at the rate so far (``None`` before the first batch)."""
        rate = self.tokens_per_second
        return (self.total_tokens - self.done.tokens) / rate if rate > 0 else None

    def update(self, tokens: int, texts: int) -> None:
        """One batch is embedded and committed to the cache."""
        self.done.tokens += tokens
        self.done.texts += texts
        self.done.batches += 1
        self._bar.update(tokens)
        eta = self.eta_seconds()
        logger.info(
            "embedded batch %d/%d: %d/%d tokens, %.0f tokens/s, ETA %s",
            self.done.batches,
            self.total_batches,
            self.done.tokens,
            self.total_tokens,
            self.tokens_per_second,
            "?" if eta is None else f"{eta:.0f}s",
        )

    def close(self) -> None:
        self._bar.close()
