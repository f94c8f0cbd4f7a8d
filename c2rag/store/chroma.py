"""Chroma access: client factory, one cosine collection per repository, batched writes.

Chroma never embeds anything here: collections are opened with ``embedding_function=None``
and every write passes its vectors. Writes are split to the client's
``get_max_batch_size()`` (or a smaller size asked for).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from c2rag.errors import StoreConnectionError

__all__ = [
    "ChromaWriter",
    "chroma_settings",
    "get_all",
    "make_client",
    "open_collection",
]

logger = logging.getLogger(__name__)

SEARCH_EF = 400
"""HNSW candidate list size of a query. Chroma's default (100, the same as the 100 results a
channel asks for) gave, on a 742-chunk index, different top-100 lists in two processes for 91
of 150 queries (Chroma rebuilds the graph of records not yet synced to disk when a process
opens it) and top-10 sets differing from exact cosine on 2 of them; at 400 both processes
returned exactly the exact-cosine top 100 for every query. On a 13,734-chunk index the share
of the exact top 100 found rose from 0.970 to 0.999, and query time did not move measurably
(about 1 ms)."""
COLLECTION_CONFIGURATION = {"hnsw": {"space": "cosine", "ef_search": SEARCH_EF}}


def chroma_settings() -> Any:
    """Client settings used for every client c2rag makes (one set: Chroma refuses two
    clients on one path with different settings)."""
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


def make_client(
    *,
    path: Path | None = None,
    host: str | None = None,
    port: int | None = None,
    private: bool = False,
) -> Any:
    """An embedded ``PersistentClient(path)`` or an ``HttpClient(host, port)``.

    ``private=True`` (embedded only) gives the client a Chroma system of its own instead of
    the one Chroma shares between every client of ``path`` in this process. An embedded
    system keeps its vector index in memory and never sees what another process (or another
    system) wrote since it started, so a reader that must follow the index opens a private
    one at each generation (see :mod:`c2rag.store.follow`).

    Raises:
        StoreConnectionError: When the server at ``host:port`` does not answer.
        ValueError: When neither or both of ``path`` and ``host`` are given.
    """
    import chromadb

    if (path is None) == (host is None):
        msg = "make_client needs exactly one of path= (embedded Chroma) or host= (Chroma server)"
        raise ValueError(msg)
    if path is not None:
        if not (path / "chroma.sqlite3").exists():
            _forget_system(path)
        path.mkdir(parents=True, exist_ok=True)
        if private:
            return _private_client(path)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings())
    port = 8000 if port is None else port
    try:
        client = chromadb.HttpClient(host=host, port=port, settings=chroma_settings())
        client.heartbeat()
    except Exception as exc:  # chromadb raises ValueError/httpx errors for an absent server
        msg = (
            f"cannot reach the Chroma server at {host}:{port} ({exc}). Start one with "
            f"`chroma run --host {host} --port {port} --path <dir>`, or omit --chroma-host "
            f"to use an embedded store."
        )
        raise StoreConnectionError(msg) from exc
    return client


def _forget_system(path: Path) -> None:
    """Drop the system Chroma cached for ``path`` in this process when the directory has been
    deleted since: it would keep writing into the removed database file, which Chroma reports
    as a read-only database."""
    from chromadb.api.client import SharedSystemClient

    system = SharedSystemClient._identifier_to_system.pop(str(path), None)
    if system is not None:
        logger.info("Chroma store %s was deleted while open in this process; reopening it", path)
        try:
            system.stop()
        except Exception:  # its files are gone: nothing left to flush
            logger.debug("stopping the stale Chroma system of %s failed", path, exc_info=True)


def _private_client(path: Path) -> Any:
    """A ``PersistentClient`` on a new system that is not left in Chroma's per-path cache
    (so later clients of the path, a writer's included, do not share it)."""
    import chromadb
    from chromadb.api.client import SharedSystemClient

    # Chroma keys its process-wide system cache by the persist directory string; hiding the
    # shared entry while the client starts, then restoring it, leaves the new system private.
    systems = SharedSystemClient._identifier_to_system
    key = str(path)
    shared = systems.pop(key, None)
    try:
        return chromadb.PersistentClient(path=key, settings=chroma_settings())
    finally:
        systems.pop(key, None)
        if shared is not None:
            systems[key] = shared


def open_collection(client: Any, name: str, *, create: bool) -> Any | None:
    """The collection ``name`` (cosine space, no embedding function), or ``None`` when it
    does not exist and ``create`` is false."""
    from chromadb.errors import NotFoundError

    if create:
        collection = client.get_or_create_collection(
            name, configuration=COLLECTION_CONFIGURATION, embedding_function=None
        )
        _raise_search_ef(collection)
        return collection
    try:
        return client.get_collection(name, embedding_function=None)
    except NotFoundError:
        return None


def _raise_search_ef(collection: Any) -> None:
    """Give an index made before :data:`SEARCH_EF` its search width (by the writer only:
    changing a collection's configuration is a write)."""
    hnsw = (getattr(collection, "configuration", None) or {}).get("hnsw") or {}
    if hnsw.get("ef_search", SEARCH_EF) < SEARCH_EF:
        collection.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})
        logger.info("index %s: HNSW ef_search raised to %d", collection.name, SEARCH_EF)


def get_all(
    collection: Any,
    *,
    where: Mapping[str, Any] | None = None,
    include: Sequence[str] = ("metadatas",),
    page: int = 2000,
) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
    """Yield ``(id, document, metadata)`` of every record matching ``where``, page by page
    so that large collections are never loaded in one response."""
    offset = 0
    while True:
        result = collection.get(
            where=dict(where) if where else None, include=list(include), limit=page, offset=offset
        )
        ids = result["ids"]
        documents = result.get("documents") or [None] * len(ids)
        metadatas = result.get("metadatas") or [{}] * len(ids)
        for item in zip(ids, documents, metadatas, strict=True):
            yield item[0], item[1], dict(item[2] or {})
        if len(ids) < page:
            return
        offset += page


class ChromaWriter:
    """Batched writes to one collection.

    Args:
        collection: The Chroma collection.
        max_batch: Upper bound on records per call; capped by the client's own limit.
    """

    def __init__(self, collection: Any, client: Any, *, max_batch: int | None = None) -> None:
        self.collection = collection
        limit = int(client.get_max_batch_size())
        self.batch_size = min(limit, max_batch) if max_batch else limit
        self.calls = 0

    def _spans(self, n: int) -> Iterator[slice]:
        for start in range(0, n, self.batch_size):
            yield slice(start, start + self.batch_size)

    def upsert(
        self,
        ids: Sequence[str],
        embeddings: np.ndarray,
        documents: Sequence[str],
        metadatas: Sequence[Mapping[str, Any]],
    ) -> None:
        """Insert or replace records (vectors included), batch by batch."""
        for span in self._spans(len(ids)):
            self.collection.upsert(
                ids=list(ids[span]),
                embeddings=np.asarray(embeddings[span], dtype=np.float32),
                documents=list(documents[span]),
                metadatas=[dict(m) for m in metadatas[span]],
            )
            self.calls += 1

    def update_metadata(self, ids: Sequence[str], metadatas: Sequence[Mapping[str, Any]]) -> None:
        """Merge metadata into existing records; a ``None`` value removes that key."""
        for span in self._spans(len(ids)):
            self.collection.update(
                ids=list(ids[span]), metadatas=[dict(m) for m in metadatas[span]]
            )
            self.calls += 1

    def delete(self, ids: Sequence[str]) -> None:
        """Delete records by id."""
        for span in self._spans(len(ids)):
            self.collection.delete(ids=list(ids[span]))
            self.calls += 1
