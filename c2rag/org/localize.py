"""Localize a report across several repositories: each ranks its own files, the best ``k``
of all are kept, and every path (so every citation) reads ``repo:path``.

Localization scores are sums of rank-based contributions (see
:mod:`c2rag.retrieve.localize`), so one repository's best file scores like another's best
whatever the sizes of their indexes, as in :mod:`c2rag.org.search`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from c2rag.org.search import RepoCitation
from c2rag.retrieve import CodeRetriever
from c2rag.retrieve.localize import FileLocation, Localization

__all__ = ["localize_across"]


def localize_across(
    retrievers: Mapping[str, CodeRetriever],
    text: str,
    *,
    k: int = 10,
    filters: Any = None,
    symbols_per_file: int = 5,
) -> Localization:
    """The ``k`` best files of all ``retrievers`` (name → retriever) for ``text``.

    Raises:
        ValueError: On empty text, ``k < 1`` or unknown filters.
    """
    files: list[tuple[float, int, int, FileLocation]] = []
    frames: list[list[tuple[Any, str | None]]] = []
    notes: dict[str, None] = {}
    for order, (name, retriever) in enumerate(retrievers.items()):
        found = retriever.localize(text, k=k, filters=filters, symbols_per_file=symbols_per_file)
        for rank, location in enumerate(found.files):
            files.append((-location.score, rank, order, _qualified(name, location)))
        frames.append([(f, None if p is None else f"{name}:{p}") for f, p in found.frames])
        notes.update(dict.fromkeys(found.notes))
    files.sort(key=lambda row: row[:3])
    # a frame is outside the organisation's code when no repository maps it
    merged = [
        next((m for m in mapped if m[1] is not None), mapped[0])
        for mapped in zip(*frames, strict=True)
    ]
    return Localization([row[3] for row in files[:k]], merged, tuple(notes))


def _qualified(repo: str, location: FileLocation) -> FileLocation:
    path = f"{repo}:{location.path}"
    symbols = tuple(
        replace(
            s,
            path=f"{repo}:{s.path}",
            citations=tuple(
                RepoCitation(c.path, c.start_line, c.end_line, c.commit, repo) for c in s.citations
            ),
        )
        for s in location.symbols
    )
    return replace(location, path=path, symbols=symbols)
