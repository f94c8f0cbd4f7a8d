"""How many CPU threads a forward pass uses.

torch's default (one per core) is right for big batches on an idle machine and wrong for one
short query on a busy one: its threads spin waiting for cores that other processes hold. On a
loaded 2-core machine one query took 2.4 s with 2 threads and 0.13 s with 1
(``benchmarks/encode_latency.py`` measures it). So by default a small forward pass (a query)
runs on one thread and a large one (a batch of documents) on torch's setting; ``threads=`` or
``$C2RAG_THREADS`` fix the number for every pass.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["SMALL_PASS_TOKENS", "THREADS_ENV", "resolve_threads", "threads_for", "torch_threads"]

THREADS_ENV = "C2RAG_THREADS"
"""Environment variable fixing the CPU threads per forward pass (``--threads`` sets it)."""

SMALL_PASS_TOKENS = 256
"""Padded tokens up to which a pass runs on one thread by default (a query, a short batch):
too little work to share across cores without waiting for them."""


def resolve_threads(threads: int | None) -> int | None:
    """``threads``, else ``$C2RAG_THREADS``, else ``None`` (the adaptive default).

    Raises:
        ValueError: For a count below 1 or an environment value that is not a whole number,
            naming where it came from.
    """
    where = "threads="
    if threads is None:
        text = os.environ.get(THREADS_ENV, "").strip()
        if not text:
            return None
        where = f"${THREADS_ENV}"
        try:
            threads = int(text)
        except ValueError:
            msg = f"{where}={text!r} is not a whole number of threads"
            raise ValueError(msg) from None
    if threads < 1:
        msg = f"{where} must be at least 1, got {threads}"
        raise ValueError(msg)
    return threads


def threads_for(padded_tokens: int, configured: int | None) -> int:
    """Threads for one forward pass of ``padded_tokens``: the configured count, else 1 for a
    small pass and torch's current setting for a large one."""
    if configured is not None:
        return configured
    return 1 if padded_tokens <= SMALL_PASS_TOKENS else torch.get_num_threads()


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with torch's intra-op thread count set to ``count``, then restore it.

    The setting is process-wide in torch; it is changed only around the forward pass.
    """
    before = torch.get_num_threads()
    if count != before:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if count != before:
            torch.set_num_threads(before)
