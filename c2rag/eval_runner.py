"""Run the docstring→function evaluation end to end: strip, index in a scratch repo, score.

Shared by ``c2rag eval`` and ``benchmarks/retrieval_quality.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
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
from c2rag.types import Embedder

__all__ = [
    "CONFIGS",
    "docstring_eval",
    "evaluate_configs",
    "python_sources",
    "scratch_retriever",
]

logger = logging.getLogger(__name__)

CONFIGS: Mapping[str, Callable[[], FusionWeights]] = {
    "dense": lambda: FusionWeights.only("dense"),
    "bm25": lambda: FusionWeights.only("lexical"),
    "naive RRF (dense+BM25, k=60)": naive_rrf_weights,
    "hybrid (c2rag)": FusionWeights,
}
"""The rows every evaluation reports: each channel alone, naive fusion, c2rag's fusion."""


def python_sources(repo_path: str | Path, *, ref: str = "HEAD") -> dict[str, str]:
    """Every Python file of a repository at ``ref`` (read from git, ignore rules applied)."""
    from c2rag.git import GitRepo

    with GitRepo(repo_path) as repo:
        entries, _ = repo.list_files(repo.resolve(ref))
        return {
            e.path: repo.read(e).decode("utf-8", "replace")
            for e in entries
            if e.path.endswith(".py")
        }


@contextmanager
def scratch_retriever(
    files: Mapping[str, str], workdir: Path, encoder: Embedder, **options: Any
) -> Iterator[CodeRetriever]:
    """Index ``files`` in a new git repository under ``workdir`` and open a retriever on it.

    A repository left there by an earlier run is reused (and its index updated), so an
    interrupted evaluation resumes without embedding everything again.
    """
    from c2rag.git import GitRepo
    from c2rag.index import CodeIndex
    from c2rag.store import IndexStore, StoreLocation

    root = workdir / "repo"
    if not (root / ".git").exists():
        write_git_repo(files, root)
    index = CodeIndex(root, encoder=encoder, store_dir=workdir / "store")
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
) -> dict[str, Metrics]:
    """MRR@k and recall@k of each fusion configuration on the same index."""
    saved = retriever.weights
    out: dict[str, Metrics] = {}
    try:
        for name, make in configs.items():
            retriever.weights = make()
            out[name] = evaluate(lambda q: retriever.search(q, k=k), cases, k=k)
    finally:
        retriever.weights = saved
    return out


def docstring_eval(
    files: Mapping[str, str],
    encoder: Embedder,
    workdir: Path,
    *,
    max_cases: int | None = 200,
    k: int = 10,
    seed: int = 0,
) -> tuple[dict[str, Metrics], int]:
    """The CodeSearchNet construction over ``files``: returns metrics per configuration and
    the number of indexed files."""
    stripped, cases = docstring_cases(files, max_cases=max_cases, seed=seed)
    if not cases:
        return {}, len(stripped)
    with scratch_retriever(stripped, workdir, encoder) as retriever:
        return evaluate_configs(retriever, cases, k=k), len(stripped)
