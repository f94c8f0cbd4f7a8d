"""Run the docstring→function evaluation end to end: strip, index in a scratch repo, score.

Shared by ``c2rag eval`` and ``benchmarks/retrieval_quality.py``.
"""

from __future__ import annotations

import hashlib
import logging
import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from c2rag.retrieve.evaluate import (
    EvalCase,
    Metrics,
    docstring_cases,
    evaluate,
    naive_rrf_weights,
    write_git_repo,
)
from c2rag.retrieve.fusion import FusionWeights
from c2rag.retrieve.retriever import CodeRetriever
from c2rag.types import Embedder, Hit

__all__ = [
    "CONFIGS",
    "DocstringEval",
    "EvalCost",
    "code_files",
    "docstring_eval",
    "estimate_cost",
    "evaluate_configs",
    "evaluate_groups",
    "reading",
    "scratch_retriever",
    "seed_cache",
]

logger = logging.getLogger(__name__)

CONFIGS: Mapping[str, Callable[[], FusionWeights]] = {
    "dense": lambda: FusionWeights.only("dense"),
    "bm25": lambda: FusionWeights.only("lexical"),
    "naive RRF (dense+BM25, k=60)": naive_rrf_weights,
    "hybrid (c2rag)": FusionWeights,
}
"""The rows every evaluation reports: each channel alone, naive fusion, c2rag's fusion."""


def code_files(repo_path: str | Path, *, ref: str = "HEAD") -> dict[str, str]:
    """Every file of a repository at ``ref`` in a language the chunker parses (read from
    git, ignore rules applied): the files whose docstrings and doc comments make queries."""
    from c2rag.chunk import SPECS, detect_language, language_needs_content
    from c2rag.git import GitRepo

    files: dict[str, str] = {}
    with GitRepo(repo_path) as repo:
        entries, _ = repo.list_files(repo.resolve(ref))
        for e in entries:
            if detect_language(e.path) not in SPECS and not language_needs_content(e.path):
                continue  # docs, configuration: known by name, not worth reading
            data = repo.read(e)  # the rest by content too: a shebang, an Objective-C ".m"
            if detect_language(e.path, data[:16384]) in SPECS:
                files[e.path] = data.decode("utf-8", "replace")
    return files


@dataclass(frozen=True)
class EvalCost:
    """What an evaluation will embed, said before it starts.

    Attributes:
        files: Source files in the scratch index.
        texts: Distinct chunk texts to index.
        reused: Of those, texts whose vector is already cached (by your index or a previous
            run): most functions without a docstring are unchanged by the stripping.
        tokens_to_embed: Tokens of the texts left to embed.
        tokens_per_second: Measured on a small sample of them; ``None`` when nothing is left.
    """

    files: int
    texts: int
    reused: int
    tokens_to_embed: int
    tokens_per_second: float | None

    @property
    def seconds(self) -> float:
        """Expected embedding time at the measured rate."""
        if not self.tokens_per_second:
            return 0.0
        return self.tokens_to_embed / self.tokens_per_second

    def describe(self) -> str:
        """One sentence for people."""
        to_embed = self.texts - self.reused
        text = (
            f"scratch index of {self.files} files: {self.texts} chunk texts, {self.reused} "
            f"reused from cached vectors, {to_embed} to embed ({self.tokens_to_embed} tokens)"
        )
        if self.tokens_per_second:
            text += (
                f"; at {self.tokens_per_second:.0f} tokens/s (measured now) about "
                f"{_duration(self.seconds)}"
            )
        return text


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def seed_cache(source: Path, scratch_store: Path) -> int:
    """Copy the embedding cache of an existing index into a scratch store, so that every chunk
    text it already embedded is not embedded again. Returns the vectors copied (0 when there
    is no cache at ``source``)."""
    from c2rag.store.cache import EmbeddingCache

    if not source.is_file():
        return 0
    target = EmbeddingCache(scratch_store / source.name)
    target.close()
    with closing(sqlite3.connect(source, timeout=60.0)) as db:
        db.execute("ATTACH DATABASE ? AS scratch", (str(scratch_store / source.name),))
        with db:
            db.execute("INSERT OR IGNORE INTO scratch.vectors SELECT * FROM main.vectors")
        return int(db.execute("SELECT COUNT(*) FROM scratch.vectors").fetchone()[0])


def estimate_cost(
    files: Mapping[str, str], encoder: Any, index: Any, *, sample: int = 8
) -> EvalCost:
    """Chunk ``files`` as ``index`` (a :class:`~c2rag.index.CodeIndex`) will, look their texts
    up in its embedding cache, and time the model on a few of the rest."""
    from c2rag.store.cache import EmbeddingCache, cache_key
    from c2rag.types import chunk_metadata

    chunker = index._chunker(encoder)  # exactly the chunks the update will make
    cache_path = index.location.cache_path
    texts: dict[str, str] = {}
    for path, source in files.items():
        for chunk in chunker.chunk(path, source.encode("utf-8")).chunks:
            recipe = index.view.recipe(chunk.text, chunk_metadata(chunk))
            texts[recipe.text_hash] = recipe.text
            if recipe.blended:  # its signature view is embedded too (store.views)
                texts[recipe.view_hash] = recipe.view
    keys = {h: cache_key(encoder.fingerprint, h) for h in texts}
    with EmbeddingCache(cache_path) as cache:
        cached = cache.get_many(keys.values())
    missing = [texts[h] for h in texts if keys[h] not in cached]
    tokens = sum(encoder.count_tokens(t) for t in missing)
    rate = None
    if missing:
        probe = random.Random(0).sample(missing, min(sample, len(missing)))
        start = time.perf_counter()
        encoder.encode_documents(probe)
        elapsed = max(time.perf_counter() - start, 1e-6)
        rate = sum(encoder.count_tokens(t) for t in probe) / elapsed
    return EvalCost(len(files), len(texts), len(texts) - len(missing), tokens, rate)


def reading(results: Mapping[str, Metrics]) -> str:
    """One line that reads the table: what the numbers mean and which configuration wins."""
    hybrid = results.get("hybrid (c2rag)")
    singles = {n: m for n, m in results.items() if n in ("dense", "bm25")}
    if hybrid is None or not singles:
        return ""
    best_name, best = max(singles.items(), key=lambda item: item[1].mrr)
    delta = hybrid.mrr - best.mrr
    verdict = (
        f"beats the better single channel ({best_name}) by {delta:+.3f} MRR"
        if delta > 0.005
        else f"is level with the better single channel ({best_name}, {delta:+.3f} MRR)"
        if delta > -0.005
        else f"trails the better single channel ({best_name}) by {-delta:.3f} MRR"
    )
    return (
        f"Reading: c2rag's hybrid puts the function in the top {hybrid.k} for "
        f"{hybrid.recall:.0%} of the queries; MRR@{hybrid.k} {hybrid.mrr:.3f} (1.0 would be "
        f"always first, 0.5 about second); hybrid {verdict}."
    )


def scratch_index(
    files: Mapping[str, str],
    workdir: Path,
    encoder: Embedder,
    index_options: Mapping[str, Any] | None = None,
) -> Any:
    """The scratch repository under ``workdir`` (written unless an earlier run left it) and
    its :class:`~c2rag.index.CodeIndex` (built with ``index_options``)."""
    from c2rag.index import CodeIndex

    root = workdir / "repo"
    if not (root / ".git").exists():
        write_git_repo(files, root)
    return CodeIndex(root, encoder=encoder, store_dir=workdir / "store", **(index_options or {}))


@contextmanager
def scratch_retriever(
    files: Mapping[str, str],
    workdir: Path,
    encoder: Embedder,
    *,
    index_options: Mapping[str, Any] | None = None,
    **options: Any,
) -> Iterator[CodeRetriever]:
    """Index ``files`` in a new git repository under ``workdir`` and open a retriever on it.

    A repository left there by an earlier run is reused (and its index updated), so an
    interrupted evaluation resumes without embedding everything again. ``index_options`` go
    to :class:`~c2rag.index.CodeIndex` (e.g. ``signature_weight``), ``options`` to the
    :class:`CodeRetriever`. Files stripped of their docstrings leave the index's calibration
    (:mod:`c2rag.calibrate`) nothing to measure on: see :func:`calibrator`.
    """
    from c2rag.git import GitRepo
    from c2rag.store import IndexStore, StoreLocation

    index = scratch_index(files, workdir, encoder, index_options)
    root = index.repo_root
    report = index.update()
    logger.info("%s", report.summary())
    store = IndexStore.open(StoreLocation.for_repo(root, store_dir=workdir / "store"))
    with GitRepo(root) as repo, CodeRetriever(store, encoder, repo, **options) as retriever:
        yield retriever


def evaluate_configs(
    retriever: CodeRetriever,
    cases: Sequence[EvalCase],
    *,
    k: int = 10,
    configs: Mapping[str, Callable[[], FusionWeights]] = CONFIGS,
    calibrate: Callable[[Sequence[EvalCase]], None] | None = None,
) -> dict[str, Metrics]:
    """MRR@k and recall@k of each fusion configuration on the same index (``calibrate``: as
    for :func:`evaluate_groups`)."""
    return evaluate_groups(retriever, cases, None, k=k, configs=configs, calibrate=calibrate)[0]


def evaluate_groups(
    retriever: CodeRetriever,
    cases: Sequence[EvalCase],
    group_of: Callable[[EvalCase], str] | None,
    *,
    k: int = 10,
    configs: Mapping[str, Callable[[], FusionWeights]] = CONFIGS,
    calibrate: Callable[[Sequence[EvalCase]], None] | None = None,
) -> tuple[dict[str, Metrics], dict[str, dict[str, Metrics]]]:
    """Metrics of each configuration over every case, and over each group of cases (by
    ``group_of``; none when it is ``None``). Each case is searched once per configuration.

    ``calibrate(fold)`` measures the index's channels with the questions of ``fold`` left
    out (:func:`calibrator`); given, the cases are searched in two folds, each after the
    index was calibrated without it, so no question is answered by a calibration that saw it.
    """
    groups: dict[str, list[EvalCase]] = {}
    for case in cases if group_of is not None else ():
        groups.setdefault(group_of(case), []).append(case)
    folds = [list(cases)] if calibrate is None else calibration_folds(cases)
    saved = retriever.weights
    answers: dict[str, dict[int, Sequence[Hit]]] = {name: {} for name in configs}
    try:
        for fold in folds:
            if calibrate is not None:
                calibrate(fold)
            for name, make in configs.items():
                retriever.weights = make()
                answers[name].update({id(case): retriever.search(case.query, k=k) for case in fold})
    finally:
        retriever.weights = saved
    overall = {name: _scored(answers[name], cases, k) for name in configs}
    by_group = {
        group: {name: _scored(answers[name], groups[group], k) for name in configs}
        for group in sorted(groups)
    }
    return overall, by_group


def calibration_folds(cases: Sequence[EvalCase]) -> list[list[EvalCase]]:
    """Two folds of ``cases``, by a hash of each question's function (stable across runs)."""
    folds: list[list[EvalCase]] = [[], []]
    for case in cases:
        key = hashlib.sha256(f"{case.path}\0{case.name}\0{case.query}".encode()).digest()
        folds[key[0] % 2].append(case)
    return [fold for fold in folds if fold]


def calibrator(
    index: Any, retriever: CodeRetriever, originals: Mapping[str, str]
) -> Callable[[Sequence[EvalCase]], None]:
    """``calibrate(fold)`` for :func:`evaluate_groups`: measures ``index`` on the documented
    functions of ``originals`` (the files as the repository has them, before their docstrings
    were stripped to make the questions), leaving out ``fold``'s, and has ``retriever`` read
    the new measurement."""

    def calibrate(fold: Sequence[EvalCase]) -> None:
        index.calibrate(originals.get, exclude={(c.path, c.name) for c in fold})
        retriever.store.reload()

    return calibrate


def _scored(answers: Mapping[int, Sequence[Hit]], members: Sequence[EvalCase], k: int) -> Metrics:
    """Metrics of ``members`` from the hits already found for each (keyed by ``id(case)``)."""
    found = iter([answers[id(case)] for case in members])
    return evaluate(lambda _query: next(found), members, k=k)


@dataclass(frozen=True)
class DocstringEval:
    """What :func:`docstring_eval` measured.

    Attributes:
        results: Metrics of each configuration over every query.
        files: Source files in the scratch index.
        by_language: The same per language of the queried functions, when the queries come
            from more than one language (empty otherwise).
    """

    results: dict[str, Metrics]
    files: int
    by_language: dict[str, dict[str, Metrics]]


def docstring_eval(
    files: Mapping[str, str],
    encoder: Embedder,
    workdir: Path,
    *,
    max_cases: int | None = 200,
    k: int = 10,
    seed: int = 0,
    reuse_cache: Path | None = None,
    on_cost: Callable[[EvalCost], None] | None = None,
) -> DocstringEval:
    """The CodeSearchNet construction over ``files``: metrics per configuration, overall
    and per language.

    Args:
        reuse_cache: The embedding cache of the repository's own index: its vectors seed the
            scratch index, so only texts the stripping changed are embedded.
        on_cost: Called with the :class:`EvalCost` before any embedding starts.
    """
    from c2rag.chunk import detect_language, strip_doc_comments

    stripped, cases = docstring_cases(
        files, max_cases=max_cases, seed=seed, doc_comments=strip_doc_comments
    )
    if not cases:
        return DocstringEval({}, len(stripped), {})
    index = scratch_index(stripped, workdir, encoder)
    if reuse_cache is not None:
        copied = seed_cache(reuse_cache, index.location.cache_path.parent)
        logger.info("seeded the scratch cache with %d vectors from %s", copied, reuse_cache)
    if on_cost is not None:
        on_cost(estimate_cost(stripped, encoder, index))
    languages = {case.path: detect_language(case.path) for case in cases}
    with scratch_retriever(stripped, workdir, encoder) as retriever:
        calibrate = calibrator(index, retriever, files)
        results, groups = evaluate_groups(
            retriever, cases, lambda c: languages[c.path], k=k, calibrate=calibrate
        )
    return DocstringEval(results, len(stripped), groups if len(groups) > 1 else {})
