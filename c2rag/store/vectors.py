"""Vectors for chunk texts, paying for as few model calls as possible.

Tiers, cheapest first: the local embedding cache; records already in the Chroma collection
with the same content hash (the collection holds vectors of one model only, so they are
valid, and this lets a fresh machine reuse a server index's vectors); the embedder. Every
vector obtained from the second or third tier is written to the cache at once, before any
store write, so a crash never loses a paid-for embedding.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from c2rag.store.cache import EmbeddingCache, cache_key
from c2rag.store.views import VectorRecipe, blend
from c2rag.types import Embedder

__all__ = ["VectorSource", "VectorStats"]

logger = logging.getLogger(__name__)

_WHERE_IN_BATCH = 500


@dataclass
class VectorStats:
    """Where the vectors of one update came from."""

    cache_hits: int = 0
    store_hits: int = 0
    texts_embedded: int = 0
    tokens_embedded: int = 0
    model_calls: int = 0


@dataclass
class _Resolved:
    """What :meth:`VectorSource._resolve` found for a set of recipes."""

    texts: dict[str, str] = field(default_factory=dict)
    missing: list[VectorRecipe] = field(default_factory=list)
    """Blended recipes whose vector is in neither the cache nor the store."""
    cache_hits: int = 0
    store_hits: int = 0


class VectorSource:
    """Make sure every text has a cached vector under the embedder's fingerprint.

    Args:
        cache: The embedding cache (vectors land here first).
        embedder: The model; only texts found nowhere else are sent to it.
        collection: Chroma collection searched by content hash before embedding, or ``None``.
        batch_size: Texts per ``encode_documents`` call; after each call its vectors are
            committed to the cache, so a crash loses at most one batch of work.
        show_progress: Show a tqdm bar while embedding.
    """

    def __init__(
        self,
        cache: EmbeddingCache,
        embedder: Embedder,
        *,
        collection: Any | None = None,
        batch_size: int = 64,
        show_progress: bool = False,
    ) -> None:
        if batch_size < 1:
            msg = f"batch_size must be at least 1, got {batch_size}"
            raise ValueError(msg)
        self.cache = cache
        self.embedder = embedder
        self.collection = collection
        self.batch_size = batch_size
        self.show_progress = show_progress

    def key(self, content_hash: str) -> str:
        """Cache key of a text with this content hash under this embedder."""
        return cache_key(self.embedder.fingerprint, content_hash)

    def ensure(self, texts: Mapping[str, str]) -> VectorStats:
        """Make vectors of ``texts`` (content hash → text) available in the cache."""
        stats = VectorStats()
        keys = {h: self.key(h) for h in texts}
        cached = self.cache.get_many(keys.values())
        missing = [h for h in texts if keys[h] not in cached]
        # vectors cached by an earlier c2rag version under this model's old fingerprint
        for legacy in getattr(self.embedder, "legacy_fingerprints", ()):
            if not missing:
                break
            old = {h: cache_key(legacy, h) for h in missing}
            found = self.cache.get_many(old.values())
            self.cache.put_many({keys[h]: found[k] for h, k in old.items() if k in found})
            missing = [h for h in missing if old[h] not in found]
        stats.cache_hits = len(texts) - len(missing)
        if missing and self.collection is not None:
            found = self._from_store(missing)
            self.cache.put_many({keys[h]: v for h, v in found.items()})
            stats.store_hits = len(found)
            missing = [h for h in missing if h not in found]
        if missing:
            self._embed(missing, texts, keys, stats)
        return stats

    def needed(self, recipes: Sequence[VectorRecipe]) -> dict[str, str]:
        """The texts (content hash → text) that must have vectors before ``recipes`` can be
        made: none for a recipe already cached or stored under its key, else its text and
        its view. Blends found in the store are cached on the way."""
        return self._resolve(recipes).texts

    def ensure_recipes(self, recipes: Sequence[VectorRecipe]) -> VectorStats:
        """Make the stored vector of every recipe available in the cache under its key:
        texts through :meth:`ensure`, then blends of text and view."""
        resolved = self._resolve(recipes)
        stats = self.ensure(resolved.texts)
        stats.cache_hits += resolved.cache_hits
        stats.store_hits += resolved.store_hits
        todo = resolved.missing
        if todo:
            parts = self._get_map([h for r in todo for h in (r.text_hash, r.view_hash)])
            self.cache.put_many(
                {
                    self.key(r.key): blend(parts[r.text_hash], parts[r.view_hash], r.weight)
                    for r in todo
                }
            )
        return stats

    def _resolve(self, recipes: Sequence[VectorRecipe]) -> _Resolved:
        """The blends of ``recipes`` found in neither the cache nor the store, and every text
        still needed (a plain recipe's text, a missing blend's text and view)."""
        blended = {r.key: r for r in recipes if r.blended}
        keys = {k: self.key(k) for k in blended}
        cached = self.cache.get_many(keys.values())
        missing = {k for k in blended if keys[k] not in cached}
        resolved = _Resolved(cache_hits=len(blended) - len(missing))
        if missing and self.collection is not None:
            found = self._from_store(sorted(missing), field="vector_key")
            self.cache.put_many({keys[k]: v for k, v in found.items()})
            resolved.store_hits = len(found)
            missing -= found.keys()
        for recipe in recipes:
            if not recipe.blended:
                resolved.texts[recipe.text_hash] = recipe.text
            elif recipe.key in missing:
                resolved.texts[recipe.text_hash] = recipe.text
                resolved.texts[recipe.view_hash] = recipe.view
        resolved.missing = [blended[k] for k in sorted(missing)]
        return resolved

    def _get_map(self, content_hashes: list[str]) -> dict[str, np.ndarray]:
        """The cached vectors of ``content_hashes`` by hash."""
        unique = list(dict.fromkeys(content_hashes))
        return dict(zip(unique, self.get(unique), strict=True))

    def get(self, content_hashes: list[str]) -> np.ndarray:
        """The cached vectors of ``content_hashes`` as one ``(n, dim)`` float32 array."""
        keys = [self.key(h) for h in content_hashes]
        found = self.cache.get_many(keys)
        absent = [h for h, k in zip(content_hashes, keys, strict=True) if k not in found]
        if absent:
            msg = (
                f"{len(absent)} vectors vanished from the embedding cache "
                f"{self.cache.path} during the update; rerun the command"
            )
            raise RuntimeError(msg)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def _from_store(
        self, hashes: list[str], *, field: str = "content_hash"
    ) -> dict[str, np.ndarray]:
        """Stored vectors by ``field`` (a text's content hash, or a recipe's key)."""
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(hashes), _WHERE_IN_BATCH):
            batch = hashes[start : start + _WHERE_IN_BATCH]
            result = self.collection.get(
                where={field: {"$in": batch}}, include=["embeddings", "metadatas"]
            )
            embeddings = result.get("embeddings")
            if embeddings is None:
                continue
            for meta, vector in zip(result["metadatas"], embeddings, strict=True):
                if field == "content_hash" and meta.get("view_hash"):
                    continue  # a blend of text and view is not the text's own vector
                found.setdefault(str(meta[field]), np.asarray(vector, dtype=np.float32))
        return found

    def _embed(
        self, missing: list[str], texts: Mapping[str, str], keys: dict[str, str], stats: VectorStats
    ) -> None:
        # Similar lengths in one call keep the model's padding low. Longest first, and progress
        # counted in tokens: a long text costs more per token (attention), so the bar's rate
        # starts at its slowest and the ETA it shows early on is never too optimistic.
        tokens = {h: self.embedder.count_tokens(texts[h]) for h in missing}
        order = sorted(missing, key=lambda h: (-tokens[h], h))
        bar = tqdm(
            total=sum(tokens.values()),
            desc="embed",
            unit="tok",
            unit_scale=True,
            disable=not self.show_progress,
        )
        try:
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                batch_texts = [texts[h] for h in batch]
                vectors = self.embedder.encode_documents(batch_texts)
                if vectors.shape != (len(batch), self.embedder.dim):
                    msg = (
                        f"embedder returned shape {vectors.shape} for {len(batch)} texts; "
                        f"expected ({len(batch)}, {self.embedder.dim})"
                    )
                    raise ValueError(msg)
                self.cache.put_many({keys[h]: v for h, v in zip(batch, vectors, strict=True)})
                batch_tokens = sum(tokens[h] for h in batch)
                stats.model_calls += 1
                stats.texts_embedded += len(batch)
                stats.tokens_embedded += batch_tokens
                bar.update(batch_tokens)
                bar.set_postfix(texts=f"{stats.texts_embedded}/{len(order)}")
        finally:
            bar.close()
        logger.info(
            "embedded %d texts (%d tokens) in %d calls; %d from cache, %d from the store",
            stats.texts_embedded,
            stats.tokens_embedded,
            stats.model_calls,
            stats.cache_hits,
            stats.store_hits,
        )
