"""Content-addressed embedding cache: never pay twice for the same chunk text.

A vector is stored under ``sha256(fingerprint + "\\0" + content_hash)`` where ``fingerprint``
identifies everything that changes a document vector (model, revision, pooling, prompt) and
``content_hash`` is the sha256 of the chunk text. The cache is one SQLite file in WAL mode;
each :meth:`EmbeddingCache.put_many` commits before it returns, so vectors survive a crash
of the indexer that happens before (or while) they are written to the vector store.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = ["EmbeddingCache", "cache_key"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    key TEXT PRIMARY KEY,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL
) WITHOUT ROWID
"""
# SQLite's default limit on host parameters is 999 on old builds; stay below it.
_PARAMS_PER_QUERY = 900


def cache_key(fingerprint: str, content_hash: str) -> str:
    """Cache key of a chunk text (by its content hash) under an embedder fingerprint."""
    return hashlib.sha256(f"{fingerprint}\0{content_hash}".encode()).hexdigest()


class EmbeddingCache:
    """Vectors by cache key, in a SQLite file shared safely by several processes.

    Args:
        path: The database file; created with its parent directory if missing.

    Example:
        >>> cache = EmbeddingCache(tmp / "embeddings.sqlite")  # doctest: +SKIP
        >>> cache.put_many({cache_key(fp, h): vec})             # doctest: +SKIP
        >>> cache.get_many([cache_key(fp, h)])                  # doctest: +SKIP
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable against a killed process (the WAL is fsynced at checkpoints);
        # only an OS crash can lose the last transactions, which are then re-embedded.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def get_many(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """Vectors (float32, 1-D) for the keys that are cached; missing keys are left out."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _PARAMS_PER_QUERY):
            batch = unique[start : start + _PARAMS_PER_QUERY]
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(
                f"SELECT key, dim, vector FROM vectors WHERE key IN ({marks})", batch
            )
            for key, dim, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape[0] == dim:  # a torn row is treated as missing
                    found[key] = vector
        return found

    def put_many(
        self, vectors: Mapping[str, np.ndarray] | Sequence[tuple[str, np.ndarray]]
    ) -> None:
        """Store vectors by key in one transaction, committed before returning."""
        items = vectors.items() if isinstance(vectors, Mapping) else vectors
        rows = []
        for key, vector in items:
            array = np.ascontiguousarray(vector, dtype=np.float32).reshape(-1)
            rows.append((key, int(array.shape[0]), array.tobytes()))
        if not rows:
            return
        with self._db:  # BEGIN … COMMIT
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (key, dim, vector) VALUES (?, ?, ?)", rows
            )

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
