"""How well each channel finds this index's own documented functions.

How much BM25 should count for a prose question depends on the corpus *and* the embedder:
MiniLM reads Python well and Rust or C poorly, while a code-trained model reads both. No
lexical weight fixed in advance fits every pair (``docs/concepts/retrieval.md``), so an index
measures its own, the way the docstring benchmarks do: the first sentence of some documented
functions is searched, with the documentation removed from the function, by the dense and the
lexical channel against everything else in the index. The two MRR@10 figures are kept in the
manifest (:class:`~c2rag.store.manifest.ChannelCalibration`) and set the lexical floor of
adaptive fusion for that language's candidates
(:meth:`c2rag.retrieve.fusion.FusionWeights.lexical_floors`).

Data flow: git (the files' text) → stripped chunks → vectors and BM25 scores against the
store → one record in the manifest. Nothing is written to the collection.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from c2rag.chunk import strip_doc_comments
from c2rag.retrieve.channels import dense_channel
from c2rag.retrieve.evaluate import docstring_cases
from c2rag.store.manifest import Calibration, ChannelCalibration
from c2rag.store.tokens import code_tokens
from c2rag.store.views import SignatureView
from c2rag.types import chunk_metadata

if TYPE_CHECKING:
    from c2rag.chunk import Chunker
    from c2rag.store.lexical import LexicalIndex
    from c2rag.store.symbols import SymbolTable
    from c2rag.store.vectors import VectorSource
    from c2rag.types import Chunk

__all__ = ["measure_channels"]

logger = logging.getLogger(__name__)

MIN_QUERIES = 12
"""A language with fewer documented functions is not measured (fusion keeps its default
lexical floor for it)."""
_DEPTH = 10  # MRR@10, as the benchmarks report
_DENSE_CANDIDATES = 100


@dataclass(frozen=True)
class _Probe:
    query: str
    path: str
    name: str
    parts: tuple[Chunk, ...]


def measure_channels(
    collection: Any,
    lexical: LexicalIndex,
    vectors: VectorSource,
    chunker: Chunker,
    read: Callable[[str], str | None],
    *,
    view: SignatureView | None = None,
    queries: int = 40,
    max_files: int = 300,
    exclude: Collection[tuple[str, str]] = (),
    task: str = "text2code",
) -> Calibration:
    """MRR@10 of the dense and the lexical channel on the index's own documented functions,
    per language.

    Args:
        collection: The Chroma collection the index's vectors are in.
        lexical: The index's BM25 index (in step with ``collection``).
        vectors: The index's embedder and embedding cache.
        chunker: The index's chunker (the stripped functions are cut as the index cuts).
        read: Path → the file's text as indexed (``None`` to skip it).
        view: The index's signature view (the stripped function's vector is made as the
            index makes one).
        queries: How many documented functions to search for at most, per language.
        max_files: How many files of each language to read at most while looking for them.
        exclude: ``(path, qualified name)`` of functions not to use (a benchmark's own
            questions).
        task: The embedder's query task (what :class:`~c2rag.retrieve.CodeRetriever` asks a
            single question with by default).

    Returns:
        One measurement per language with at least :data:`MIN_QUERIES` documented functions
        (none for a repository without docstrings or doc comments).
    """
    view = view or SignatureView(weight=0.0)
    by_language: dict[str, list[str]] = {}
    for path, language in sorted({(i.path, i.language) for _, i in lexical.symbols}):
        by_language.setdefault(language, []).append(path)
    measured: dict[str, ChannelCalibration] = {}
    left_out = set(exclude)
    for language, paths in sorted(by_language.items()):
        probes = _probes(paths, chunker, read, queries, max_files, left_out)
        if len(probes) < MIN_QUERIES:
            continue
        measured[language] = _measure(probes, collection, lexical, vectors, view, task)
        logger.info(
            "calibration, %s, %d documented functions: dense MRR@10 %.3f, lexical %.3f",
            language,
            len(probes),
            measured[language].dense_mrr,
            measured[language].lexical_mrr,
        )
    return Calibration(measured, chunks=len(lexical))


def _measure(
    probes: Sequence[_Probe],
    collection: Any,
    lexical: LexicalIndex,
    vectors: VectorSource,
    view: SignatureView,
    task: str,
) -> ChannelCalibration:
    query_vectors = vectors.embedder.encode_queries([p.query for p in probes], task=task)
    part_vectors = _part_vectors([c for p in probes for c in p.parts], vectors, view)
    dense = lexical_rr = 0.0
    offset = 0
    for probe, vector in zip(probes, query_vectors, strict=True):
        own = part_vectors[offset : offset + len(probe.parts)]
        offset += len(probe.parts)
        dense += _reciprocal(_dense_rank(collection, lexical.symbols, vector, own, probe))
        lexical_rr += _reciprocal(_lexical_rank(lexical, probe))
    n = len(probes)
    return ChannelCalibration(queries=n, dense_mrr=dense / n, lexical_mrr=lexical_rr / n)


def _probes(
    paths: Sequence[str],
    chunker: Chunker,
    read: Callable[[str], str | None],
    queries: int,
    max_files: int,
    exclude: set[tuple[str, str]],
) -> list[_Probe]:
    """Documented functions as ``(first sentence, stripped parts)``, from files in a fixed
    pseudo-random order (the same index measures the same functions)."""
    ordered = sorted(paths, key=lambda p: hashlib.sha256(p.encode()).hexdigest())
    found: list[_Probe] = []
    sentences: dict[str, int] = {}
    for path in ordered[:max_files]:
        if len(found) >= queries:
            break
        source = read(path)
        if not source:
            continue
        stripped, cases = docstring_cases({path: source}, doc_comments=strip_doc_comments)
        cases = [c for c in cases if (c.path, c.name) not in exclude]
        if not cases:
            continue
        chunks = chunker.chunk(path, stripped[path].encode("utf-8")).chunks
        for case in cases:
            parts = tuple(
                c
                for c in chunks
                # Python's cases name ``Class.method``, the chunks the module too
                if (c.name == case.name or c.name.endswith(f".{case.name}"))
                and c.start_line <= case.end_line
                and case.start_line <= c.end_line
            )
            if parts and isinstance(case.query, str):
                sentences[case.query] = sentences.get(case.query, 0) + 1
                found.append(_Probe(case.query, path, parts[0].name, parts))
    # the same sentence on several functions has no single answer
    return [p for p in found if sentences[p.query] == 1][:queries]


def _part_vectors(parts: Sequence[Chunk], vectors: VectorSource, view: SignatureView) -> np.ndarray:
    """Each stripped part's vector, made as the index makes a stored one (text, blended with
    its signature view when it gets one) and kept in the embedding cache, so measuring again
    embeds nothing twice."""
    recipes = [view.recipe(c.text, chunk_metadata(c)) for c in parts]
    vectors.ensure_recipes(recipes)
    return vectors.get([r.key for r in recipes])


def _dense_rank(
    collection: Any, symbols: SymbolTable, query: np.ndarray, own: np.ndarray, probe: _Probe
) -> int:
    """Where the stripped function would rank among the index's other records."""
    target = float(np.max(own @ np.asarray(query, dtype=np.float32)))
    ranking = dense_channel(collection, query, k=_DENSE_CANDIDATES, where=None)
    return _rank([cid for cid, score in ranking if score > target], symbols, probe)


def _lexical_rank(lexical: LexicalIndex, probe: _Probe) -> int:
    """Where the stripped function would rank in BM25 (the index's statistics)."""
    tokens = code_tokens(probe.query)
    target = max(lexical.score_chunk(tokens, c) for c in probe.parts)
    if target <= 0:
        return _DEPTH + 1  # BM25 cannot find it at all
    row_ids = lexical.row_ids
    above = [row_ids[row] for row in np.flatnonzero(lexical.scores(tokens) > target)]
    return _rank(above, lexical.symbols, probe)


def _rank(above: Sequence[str], symbols: SymbolTable, probe: _Probe) -> int:
    """1 + the records that scored above the stripped function, leaving out the function
    itself (which the index holds documented, as it was indexed)."""
    same = (probe.path, probe.name)
    return 1 + sum((i := symbols.get(cid)) is None or (i.path, i.name) != same for cid in above)


def _reciprocal(rank: int) -> float:
    return 1.0 / rank if rank <= _DEPTH else 0.0
