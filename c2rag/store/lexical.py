"""A persistent BM25 index over code tokens, kept beside the Chroma collection.

Each chunk is one document whose terms come from several weighted fields: its text, its
path, its qualified name and its signature (a name token counts more than a body token).
Postings are held term-major in numpy arrays so that a query costs a few vector operations
per query term, even over 50k chunks. Updates are cheap: a deleted or replaced chunk is
tomb-stoned and new chunks wait in a small pending list; both are folded into the arrays
(``compact``) before the next search or save.

The same file keeps what the symbol channel and neighbour expansion need per chunk: path,
qualified name, kind, language and line range (see :class:`SymbolTable`).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from c2rag.errors import IndexError_
from c2rag.store.symbols import SymbolInfo, SymbolTable
from c2rag.store.tokens import code_tokens
from c2rag.types import Chunk

__all__ = ["DEFAULT_FIELD_WEIGHTS", "FILE_NAME", "LexicalIndex", "code_tokens"]

logger = logging.getLogger(__name__)

FILE_NAME = "lexical.npz"
_FORMAT = 2  # 2: the symbol table keeps each chunk's text id
DEFAULT_FIELD_WEIGHTS: Mapping[str, float] = {
    "text": 1.0,
    "name": 3.0,
    "signature": 2.0,
    "path": 1.5,
}


@dataclass
class _Pending:
    terms: Counter[str]
    length: float


class LexicalIndex:
    """BM25 over chunks, persistent and incrementally updatable.

    Args:
        directory: Where ``lexical.npz`` lives (created on :meth:`save`).
        k1: BM25 term-frequency saturation.
        b: BM25 length normalisation.
        field_weights: Weight of each field's term counts: ``text``, ``name``, ``signature``,
            ``path``.

    Example:
        >>> lex = LexicalIndex.open(tmp_dir)
        >>> lex.upsert([("id1", chunk)]); lex.save()
        >>> lex.search("retry upload", k=5)
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        k1: float = 1.2,
        b: float = 0.75,
        field_weights: Mapping[str, float] | None = None,
    ) -> None:
        weights = dict(DEFAULT_FIELD_WEIGHTS if field_weights is None else field_weights)
        unknown = set(weights) - set(DEFAULT_FIELD_WEIGHTS)
        if unknown:
            msg = f"unknown field_weights {sorted(unknown)}; valid: {sorted(DEFAULT_FIELD_WEIGHTS)}"
            raise ValueError(msg)
        self.directory = Path(directory)
        self.k1, self.b = float(k1), float(b)
        self.field_weights = weights
        self.generation: str | None = None
        # Base arrays (term-major postings over rows of ``_ids``).
        self._ids: list[str] = []
        self._terms: list[str] = []
        self._vocab: dict[str, int] = {}
        self._indptr = np.zeros(1, dtype=np.int64)
        self._rows = np.zeros(0, dtype=np.int32)
        self._tf = np.zeros(0, dtype=np.float32)
        self._length = np.zeros(0, dtype=np.float32)
        self._alive = np.zeros(0, dtype=bool)
        self._row_of: dict[str, int] = {}
        self._pending: dict[str, _Pending] = {}
        self.symbols = SymbolTable()
        self._dirty = False

    # ----------------------------------------------------------------------------- persistence
    @classmethod
    def open(cls, directory: str | os.PathLike[str], **options: Any) -> LexicalIndex:
        """Load the index stored in ``directory``; an empty index when there is none yet.

        Args:
            directory: Where ``lexical.npz`` lives.
            **options: ``k1``, ``b``, ``field_weights``, as for the constructor.

        Raises:
            IndexError_: If the file exists but cannot be read (says how to rebuild it).
        """
        index = cls(directory, **options)
        path = index.path
        if not path.exists():
            return index
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(data["meta"].tobytes().decode("utf-8"))
                index._indptr = data["indptr"]
                index._rows = data["rows"]
                index._tf = data["tf"]
                index._length = data["length"]
        except (OSError, ValueError, KeyError) as exc:
            msg = f"cannot read lexical index {path}: {exc}; delete it and run `c2rag index` again"
            raise IndexError_(msg) from exc
        found = meta.get("format")
        if isinstance(found, int) and found < _FORMAT:
            # Written by an earlier version: an empty index without a generation is stale, so
            # the store rebuilds it from the collection (and the next update saves it).
            logger.info("%s has format %s, not %s: rebuilding it", path, found, _FORMAT)
            return index
        if found != _FORMAT:
            msg = f"{path} has format {found}, expected {_FORMAT}; rebuild the index"
            raise IndexError_(msg)
        index.generation = meta["generation"]
        index._ids = meta["ids"]
        index._terms = meta["terms"]
        index._vocab = {t: i for i, t in enumerate(index._terms)}
        index._row_of = {cid: i for i, cid in enumerate(index._ids)}
        index._alive = np.ones(len(index._ids), dtype=bool)
        index.symbols = SymbolTable.from_json(meta["symbols"])
        return index

    @property
    def path(self) -> Path:
        """The file the index is saved to."""
        return self.directory / FILE_NAME

    def save(self) -> None:
        """Write the index atomically (temporary file, then ``os.replace``)."""
        self.compact()
        self.directory.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": _FORMAT,
            "generation": self.generation,
            "ids": self._ids,
            "terms": self._terms,
            "symbols": self.symbols.to_json(),
        }
        blob = np.frombuffer(json.dumps(meta, separators=(",", ":")).encode("utf-8"), np.uint8)
        fd, tmp = tempfile.mkstemp(prefix=".lexical-", suffix=".npz", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(
                    fh,
                    meta=blob,
                    indptr=self._indptr,
                    rows=self._rows,
                    tf=self._tf,
                    length=self._length,
                )
            Path(tmp).replace(self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def set_generation(self, generation: str | None) -> None:
        """Record which manifest generation of the store this index reflects."""
        self.generation = generation

    # ------------------------------------------------------------------------------- updates
    def __len__(self) -> int:
        return len(self.symbols)

    def __contains__(self, chunk_id: object) -> bool:
        return chunk_id in self.symbols

    def ids(self) -> list[str]:
        """Ids of every chunk in the index."""
        return self.symbols.ids()

    def document_terms(self, chunk: Chunk) -> Counter[str]:
        """Weighted term counts of one chunk over its fields."""
        fields = {
            "text": chunk.text,
            "name": chunk.name,
            "signature": chunk.signature,
            "path": chunk.path,
        }
        terms: Counter[str] = Counter()
        for field, text in fields.items():
            weight = self.field_weights.get(field, 0.0)
            if weight and text:
                for token in code_tokens(text):
                    terms[token] += weight
        return terms

    def upsert(self, items: Iterable[tuple[str, Chunk]]) -> None:
        """Add chunks, replacing any stored under the same id."""
        for chunk_id, chunk in items:
            terms = self.document_terms(chunk)
            self._tombstone(chunk_id)
            self._pending[chunk_id] = _Pending(terms, float(sum(terms.values())))
            self.symbols.add(chunk_id, SymbolInfo.from_chunk(chunk))
            self._dirty = True

    def delete(self, ids: Iterable[str]) -> None:
        """Remove chunks by id; unknown ids are ignored."""
        for chunk_id in ids:
            self._tombstone(chunk_id)
            self._pending.pop(chunk_id, None)
            self.symbols.remove(chunk_id)
            self._dirty = True

    def clear(self) -> None:
        """Remove every chunk (the generation is kept)."""
        self.delete(list(self.symbols.ids()))

    def _tombstone(self, chunk_id: str) -> None:
        row = self._row_of.pop(chunk_id, None)
        if row is not None:
            self._alive[row] = False

    def compact(self) -> None:
        """Fold pending chunks and tombstones into the term-major arrays."""
        if not self._dirty:
            return
        term_col = np.repeat(np.arange(len(self._terms), dtype=np.int64), np.diff(self._indptr))
        keep = self._alive[self._rows] if self._rows.size else np.zeros(0, dtype=bool)
        old_rows = np.flatnonzero(self._alive)
        new_row_of_old = np.full(len(self._ids), -1, dtype=np.int64)
        new_row_of_old[old_rows] = np.arange(old_rows.size)
        ids = [self._ids[r] for r in old_rows]
        lengths = [self._length[old_rows]]
        vocab = dict(self._vocab)
        terms = list(self._terms)
        add_terms: list[int] = []
        add_rows: list[int] = []
        add_tf: list[float] = []
        pending_len: list[float] = []
        for chunk_id, doc in self._pending.items():
            row = len(ids)
            ids.append(chunk_id)
            pending_len.append(doc.length)
            for term, tf in doc.terms.items():
                tid = vocab.get(term)
                if tid is None:
                    tid = vocab[term] = len(terms)
                    terms.append(term)
                add_terms.append(tid)
                add_rows.append(row)
                add_tf.append(tf)
        all_terms = np.concatenate([term_col[keep], np.asarray(add_terms, dtype=np.int64)])
        all_rows = np.concatenate(
            [new_row_of_old[self._rows[keep]], np.asarray(add_rows, dtype=np.int64)]
        )
        all_tf = np.concatenate([self._tf[keep], np.asarray(add_tf, dtype=np.float32)])
        # Drop terms no chunk uses any more, so the vocabulary does not grow forever.
        used, remap = np.unique(all_terms, return_inverse=True)
        order = np.lexsort((all_rows, remap))
        self._terms = [terms[t] for t in used]
        self._vocab = {t: i for i, t in enumerate(self._terms)}
        counts = np.bincount(remap, minlength=used.size)
        self._indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._rows = all_rows[order].astype(np.int32)
        self._tf = all_tf[order].astype(np.float32)
        self._ids = ids
        self._row_of = {cid: i for i, cid in enumerate(ids)}
        self._length = np.concatenate([*lengths, np.asarray(pending_len, dtype=np.float32)])
        self._length = self._length.astype(np.float32)
        self._alive = np.ones(len(ids), dtype=bool)
        self._pending.clear()
        self._dirty = False

    # -------------------------------------------------------------------------------- search
    def scores(self, query: str | Sequence[str]) -> np.ndarray:
        """BM25 score of every row for a query (text, or tokens from :func:`code_tokens`)."""
        self.compact()
        tokens = code_tokens(query) if isinstance(query, str) else list(query)
        n = len(self._ids)
        scores = np.zeros(n, dtype=np.float32)
        if not n or not tokens:
            return scores
        norm = self._length_norm(self._length)
        for term, qtf in Counter(tokens).items():
            tid = self._vocab.get(term)
            if tid is None:
                continue
            lo, hi = self._indptr[tid], self._indptr[tid + 1]
            rows, tf = self._rows[lo:hi], self._tf[lo:hi]
            scores[rows] += self._term_score(qtf, rows.size, tf, norm[rows])
        return scores

    def score_chunk(self, query: str | Sequence[str], chunk: Chunk) -> float:
        """The BM25 score ``chunk`` would get for ``query`` if it were in the index (the
        index's term statistics and mean length; the chunk itself is not added)."""
        self.compact()
        tokens = code_tokens(query) if isinstance(query, str) else list(query)
        terms = self.document_terms(chunk)
        n = len(self._ids)
        if not n or not tokens:
            return 0.0
        norm = self._length_norm(float(sum(terms.values())))
        score = 0.0
        for term, qtf in Counter(tokens).items():
            tf, tid = terms.get(term, 0.0), self._vocab.get(term)
            if not tf or tid is None:
                continue
            df = int(self._indptr[tid + 1] - self._indptr[tid])
            score += float(self._term_score(qtf, df, tf, norm))
        return score

    def _length_norm(self, length: Any) -> Any:
        """BM25's length normalisation ``k1 · (1 − b + b · length / mean length)`` of a
        document length or an array of them."""
        avg = float(self._length.mean()) or 1.0
        return self.k1 * (1.0 - self.b + self.b * length / avg)

    def _term_score(self, qtf: int, df: int, tf: Any, norm: Any) -> Any:
        """One query term's BM25 contribution (``tf`` and ``norm``: scalars or arrays)."""
        n = len(self._ids)
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        return qtf * idf * tf * (self.k1 + 1.0) / (tf + norm)

    def search(
        self,
        query: str | Sequence[str],
        *,
        k: int = 10,
        allowed: Callable[[str], bool] | None = None,
    ) -> list[tuple[str, float]]:
        """The ``k`` best chunks for a query.

        Args:
            query: Text (tokenized with :func:`code_tokens`) or a token list.
            k: How many results.
            allowed: Keep only ids for which this returns true (filters).

        Returns:
            ``(id, score)`` pairs, best first; chunks with no query term never appear.
        """
        if k <= 0:
            return []
        scores = self.scores(query)
        return top_ids(self._ids, scores, k=k, allowed=allowed)

    def containing(self, token: str) -> list[str]:
        """Ids of chunks whose fields contain ``token`` (a lower-cased term, e.g. a whole
        identifier: the chunks that mention ``retry_upload`` are its likely callers)."""
        self.compact()
        tid = self._vocab.get(token)
        if tid is None:
            return []
        rows = self._rows[self._indptr[tid] : self._indptr[tid + 1]]
        return [self._ids[r] for r in rows]

    def rows_of(self, ids: Iterable[str]) -> np.ndarray:
        """Row numbers (into :meth:`scores`) of known ids."""
        self.compact()
        return np.asarray([self._row_of[i] for i in ids if i in self._row_of], dtype=np.int64)

    @property
    def row_ids(self) -> list[str]:
        """Id of each row of :meth:`scores` (after compaction)."""
        self.compact()
        return self._ids


def top_ids(
    ids: Sequence[str],
    scores: np.ndarray,
    *,
    k: int,
    allowed: Callable[[str], bool] | None = None,
) -> list[tuple[str, float]]:
    """Best ``k`` positive-scoring ids, skipping those ``allowed`` rejects."""
    positive = np.flatnonzero(scores > 0)
    if not positive.size:
        return []
    ranked = positive[np.argsort(-scores[positive], kind="stable")]
    out: list[tuple[str, float]] = []
    for row in ranked:
        cid = ids[row]
        if allowed is None or allowed(cid):
            out.append((cid, float(scores[row])))
            if len(out) == k:
                break
    return out
