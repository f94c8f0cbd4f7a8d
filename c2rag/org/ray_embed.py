"""Embed many texts on a Ray cluster, streaming every finished batch into the embedding cache.

The driver sends only texts missing from the cache. They are cut into length-sorted batches
under a token budget (:func:`c2rag.encode.engine.plan_batches`, as the encoder does for one
call) and embedded by Ray Data's ``map_batches`` over an actor pool, each actor holding one
encoder replica: one per GPU when the cluster has GPUs, else CPU actors with their torch
thread count set (:mod:`c2rag.org.ray_data`). Each batch's vectors are committed to the cache
as soon as it comes back, so a job killed at any point keeps every finished batch and a rerun
embeds only the rest.

Ray Data rather than hand-driven Ray core actors: both were built and measured on the same
runs (``benchmarks/index_scale.py``, alternating rounds, docs/benchmarks.md): the embedding
step took 33.7 s against 34.2 s with one actor and 36.9 s against 37.1 s with two (medians
of 3, load 6-8 on 2 cores), the same within the noise, so the maintained library is kept and
the core-actor scheduler was removed.
"""

from __future__ import annotations

import importlib.util
import logging
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from c2rag.encode.engine import plan_batches
from c2rag.errors import C2RAGError
from c2rag.org.progress import TokenProgress
from c2rag.org.ray_data import PoolShape, stream_with_ray_data
from c2rag.store.cache import EmbeddingCache, cache_key
from c2rag.types import Embedder

__all__ = [
    "ClusterUnreachableError",
    "RayEmbedding",
    "RayNotInstalledError",
    "RaySettings",
    "RayStats",
    "check_address",
    "import_ray",
    "require_ray",
]

logger = logging.getLogger(__name__)

# Ray batches hold several encoder calls' worth of tokens: fewer round trips, and a killed
# job loses only the batches in flight.
_BATCH_CALLS = 8
# ... and never fewer than this many tokens (a CPU encoder's own budget is small), so that a
# round trip's overhead stays small against the work it carries.
_MIN_BATCH_TOKENS = 16384
_CONNECT_TIMEOUT_S = 5.0


class RayNotInstalledError(C2RAGError):
    """``--ray`` was asked for but Ray is not installed."""


class ClusterUnreachableError(C2RAGError):
    """The Ray cluster address does not answer."""


@dataclass(frozen=True)
class RaySettings:
    """How to reach and use the cluster.

    Attributes:
        address: As for ``ray.init``: ``None`` or ``"local"`` starts a local cluster,
            ``"auto"`` joins the one started on this machine, ``host:port`` or
            ``ray://host:port`` a remote one.
        actors: Encoder replicas (default: one per GPU, else CPUs ÷ threads).
        threads: Torch threads per CPU actor (default: min(8, CPUs ÷ actors)).
        batch_tokens: Padded tokens per Ray batch (default: 8 encoder calls' budget, at least
            16,384).
    """

    address: str | None = None
    actors: int | None = None
    threads: int | None = None
    batch_tokens: int | None = None

    def __post_init__(self) -> None:
        for name in ("actors", "threads", "batch_tokens"):
            value = getattr(self, name)
            if value is not None and value < 1:
                msg = f"Ray {name} must be at least 1, got {value}"
                raise ValueError(msg)


@dataclass
class RayStats:
    """What one :meth:`RayEmbedding.embed_into` did."""

    texts: int = 0
    tokens: int = 0
    batches: int = 0
    actors: int = 0
    seconds: float = 0.0


def import_ray() -> Any:
    """The ``ray`` module.

    Raises:
        RayNotInstalledError: Naming the extra that installs it.
    """
    require_ray()
    import ray

    return ray


def require_ray() -> None:
    """Fail at once, without importing it (seconds), when Ray is not installed.

    Raises:
        RayNotInstalledError: Naming the extra that installs it.
    """
    if importlib.util.find_spec("ray") is None:
        msg = "--ray needs Ray, which is not installed: pip install 'c2rag[ray]'"
        raise RayNotInstalledError(msg)


def check_address(address: str | None) -> None:
    """Fail fast on a cluster address nothing listens on (``ray.init`` would retry for
    minutes). ``None``, ``local`` and ``auto`` are left to Ray.

    Raises:
        ClusterUnreachableError: Naming the address.
        ValueError: The address has no port.
    """
    if address in (None, "local", "auto"):
        return
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if not parts.hostname or parts.port is None:
        msg = f"Ray address {address!r} needs a host and a port (host:port or ray://host:port)"
        raise ValueError(msg)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=_CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        msg = (
            f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}); "
            f"start it with `ray start --head` or check the address"
        )
        raise ClusterUnreachableError(msg) from exc


class RayEmbedding:
    """A connection to a Ray cluster, and encoder actor pools on it for each embedding job.

    Constructing one checks that Ray is installed and the address answers, before anything
    is loaded or planned; :meth:`use` then says which encoder the actors hold.

    Args:
        settings: Cluster address and pool shape.
        show_progress: Draw a token progress bar.

    Raises:
        RayNotInstalledError: Ray is not installed.
        ClusterUnreachableError: ``settings.address`` does not answer.
    """

    def __init__(self, settings: RaySettings | None = None, *, show_progress: bool = False) -> None:
        self.settings = settings or RaySettings()
        require_ray()
        check_address(self.settings.address)
        self.ray = import_ray()
        self.show_progress = show_progress
        self.factory: Callable[[], Embedder] | None = None
        self.embedder: Embedder | None = None
        self._started = False

    def __enter__(self) -> RayEmbedding:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def use(self, factory: Callable[[], Embedder], embedder: Embedder) -> None:
        """Hold the encoder ``factory`` builds in each actor (pickled to the workers);
        ``embedder`` is the driver's copy (fingerprint, dimension, token counts), which the
        actors' must match."""
        self.factory = factory
        self.embedder = embedder

    def connect(self) -> None:
        """Join (or start) the cluster; a no-op when this process is already connected.

        Raises:
            ClusterUnreachableError: Ray cannot join the cluster.
        """
        ray = self.ray
        if ray.is_initialized():
            return
        address = self.settings.address
        kwargs: dict[str, Any] = {"logging_level": logging.WARNING}
        if address in (None, "local"):
            ray.init(include_dashboard=False, **kwargs)
        else:
            try:
                ray.init(address=address, **kwargs)
            except ConnectionError as exc:
                msg = f"cannot join the Ray cluster at {address}: {exc}"
                raise ClusterUnreachableError(msg) from exc
        self._started = True

    def gpus(self) -> int:
        """GPUs in the cluster (connects first)."""
        self.connect()
        return int(self.ray.cluster_resources().get("GPU", 0))

    def _shape(self) -> PoolShape:
        """How many encoder replicas, and what each reserves (connects first)."""
        self.connect()
        resources = self.ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        cpus = max(1, int(resources.get("CPU", 1)))
        settings = self.settings
        if gpus and settings.threads is None:
            return PoolShape(settings.actors or gpus, None, 1)
        count = settings.actors or max(1, cpus // min(8, cpus))
        threads = settings.threads or max(1, min(8, cpus // count))
        if count * threads > cpus:
            msg = (
                f"{count} Ray actors × {threads} threads need {count * threads} "
                f"CPUs; the cluster has {cpus}"
            )
            raise ValueError(msg)
        return PoolShape(count, threads, 0)

    def embed_into(self, cache: EmbeddingCache, texts: Mapping[str, str]) -> RayStats:
        """Embed ``texts`` (content hash → text) on the cluster into ``cache``, committing
        each batch as it completes.

        Raises:
            C2RAGError: An actor died (the batches finished before are kept in the cache).
        """
        stats = RayStats()
        if not texts:
            return stats
        if self.factory is None or self.embedder is None:
            msg = "RayEmbedding.use(factory, embedder) must be called before embedding"
            raise RuntimeError(msg)
        embedder = self.embedder
        shape = self._shape()
        logger.info(
            "%d encoder replicas on the Ray cluster (%s)",
            shape.actors,
            "1 GPU each" if shape.gpus else f"{shape.threads} CPU threads each",
        )
        hashes = list(texts)
        lengths = [embedder.count_tokens(texts[h]) for h in hashes]
        budget = self.settings.batch_tokens or max(
            _MIN_BATCH_TOKENS, _BATCH_CALLS * int(getattr(embedder, "batch_tokens", 0))
        )
        batches = plan_batches(lengths, batch_tokens=budget)
        batch_texts = [[texts[hashes[i]] for i in batch] for batch in batches]
        stats.actors = shape.actors
        progress = TokenProgress(
            sum(lengths), len(hashes), len(batches), show_progress=self.show_progress
        )
        stream = stream_with_ray_data(
            batch_texts, factory=self.factory, fingerprint=embedder.fingerprint, shape=shape
        )
        fingerprint = embedder.fingerprint
        try:
            for number, vectors in stream:
                batch = batches[number]
                if vectors.shape != (len(batch), embedder.dim):
                    msg = (
                        f"a Ray actor returned vectors of shape {vectors.shape}; expected "
                        f"{(len(batch), embedder.dim)}"
                    )
                    raise ValueError(msg)
                cache.put_many(
                    [
                        (cache_key(fingerprint, hashes[i]), v)
                        for i, v in zip(batch, vectors, strict=True)
                    ]
                )
                tokens = sum(lengths[i] for i in batch)
                progress.update(tokens, len(batch))
                stats.texts += len(batch)
                stats.tokens += tokens
                stats.batches += 1
        finally:
            stats.seconds = progress.elapsed
            progress.close()
        return stats

    def close(self) -> None:
        """Leave the cluster when this object joined or started it (each
        :meth:`embed_into` stops its own actor pool when it ends)."""
        if self._started:
            self.ray.shutdown()
            self._started = False
