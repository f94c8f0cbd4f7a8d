"""Embed planned batches with Ray Data: ``map_batches`` over an actor pool of encoders.

The driver's length-sorted batches become the rows of a Dataset (one row per batch, so Ray
Data never re-cuts them); an actor-pool callable class holds one encoder replica per actor
and turns a batch's texts into vectors. Finished batches stream back to the driver through
``iter_batches`` in completion order, where the caller commits each one to the embedding
cache before asking for the next, so a killed job keeps what was finished.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from c2rag.errors import C2RAGError
from c2rag.types import Embedder

__all__ = ["PoolShape", "stream_with_ray_data"]


@dataclass(frozen=True)
class PoolShape:
    """Encoder replicas and what each one reserves.

    Attributes:
        actors: How many replicas.
        threads: Torch threads (and CPUs reserved) per CPU replica; ``None`` on GPUs.
        gpus: GPUs per replica (0 or 1).
    """

    actors: int
    threads: int | None
    gpus: int


class _BatchEncoder:
    """The ``map_batches`` callable class: one encoder replica per pool actor."""

    def __init__(
        self, factory: Callable[[], Embedder], threads: int | None, fingerprint: str
    ) -> None:
        if threads is not None:
            import torch

            torch.set_num_threads(threads)
        self.embedder = factory()
        if self.embedder.fingerprint != fingerprint:
            msg = (
                f"the Ray Data actors' encoder has fingerprint {self.embedder.fingerprint!r}, "
                f"the driver's {fingerprint!r}: their vectors would not match the index"
            )
            raise C2RAGError(msg)

    def __call__(self, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        numbers, vectors = [], []
        for number, texts in zip(rows["batch"], rows["texts"], strict=True):
            embedded = np.asarray(self.embedder.encode_documents(list(texts)), dtype=np.float32)
            numbers.append(np.full(len(embedded), number, dtype=np.int64))
            vectors.append(embedded)
        return {"batch": np.concatenate(numbers), "vector": np.concatenate(vectors)}


def stream_with_ray_data(
    batches: Sequence[list[str]],
    *,
    factory: Callable[[], Embedder],
    fingerprint: str,
    shape: PoolShape,
) -> Iterator[tuple[int, np.ndarray]]:
    """Embed ``batches`` (lists of texts) on the connected cluster; yields
    ``(batch number, vectors)`` as each batch completes.

    Raises:
        C2RAGError: An actor or the pipeline failed (batches yielded before stay yielded).
    """
    import ray.data

    context = ray.data.DataContext.get_current()  # a Dataset copies it when made
    bars, context.enable_progress_bars = context.enable_progress_bars, False  # ours count tokens
    try:
        items = [{"batch": n, "texts": texts} for n, texts in enumerate(batches)]
        dataset = ray.data.from_items(items, override_num_blocks=len(items))
    finally:
        context.enable_progress_bars = bars
    embedded = dataset.map_batches(
        _BatchEncoder,
        batch_size=1,  # one planned batch per call: Ray Data keeps the driver's boundaries
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=shape.actors),
        num_cpus=shape.threads or 1,
        num_gpus=shape.gpus,
        fn_constructor_kwargs={
            "factory": factory,
            "threads": shape.threads,
            "fingerprint": fingerprint,
        },
    )
    parts: dict[int, list[np.ndarray]] = {}
    try:
        # prefetch_batches=0: with the default (1), each finished batch is held until the next
        # one finishes, so progress lags and a killed job loses one more batch.
        blocks = embedded.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=0)
        for block in blocks:
            for number in np.unique(block["batch"]):
                key = int(number)
                parts.setdefault(key, []).append(block["vector"][block["batch"] == number])
                got = np.concatenate(parts[key])
                if len(got) == len(batches[key]):
                    del parts[key]
                    yield key, got
    except C2RAGError:
        raise
    except Exception as exc:
        cause = _root_cause(exc)
        if isinstance(cause, C2RAGError):
            raise C2RAGError(str(cause)) from exc
        msg = (
            f"Ray Data embedding failed ({type(exc).__name__}: {exc}); the batches finished "
            "so far are cached: rerun to embed the rest"
        )
        raise C2RAGError(msg) from exc


def _root_cause(exc: BaseException) -> BaseException:
    """The :class:`C2RAGError` an actor raised, found through Ray's wrappers (their
    ``cause``) and ``__cause__`` chains; ``exc`` itself when there is none."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        if isinstance(current, C2RAGError):
            return current
        current = current.__cause__ or getattr(current, "cause", None)
    return exc
