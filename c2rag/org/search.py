"""Search several indexed repositories at once, with citations that name the repository.

Each repository keeps its own :class:`c2rag.retrieve.CodeRetriever` (its collection, lexical
index and symbols); the question is embedded once for all of them. Per-repository results
are merged by fused score: the fusion is rank-based, so a repository's best match scores like
another's best match whatever the sizes of their collections, and each repository's order
is kept.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from c2rag.git import GitRepo
from c2rag.org.repos import RepoRef, resolve_repos
from c2rag.retrieve import CodeRetriever, SearchResult
from c2rag.retrieve.gitview import GitView
from c2rag.retrieve.localize import Localization
from c2rag.store import IndexStore, StoreLocation
from c2rag.types import Citation, Embedder, Hit

__all__ = ["MultiRepoRetriever", "RepoCitation", "RepoHit"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RepoCitation(Citation):
    """A citation in one repository of several: ``repo:path:start-end@sha``."""

    repo: str = ""

    def __str__(self) -> str:
        return f"{self.repo}:{Citation.__str__(self)}"

    @classmethod
    def parse(cls, text: str) -> RepoCitation:
        """Parse ``repo:path:start-end@sha`` (the inverse of ``str()``)."""
        repo, sep, rest = text.partition(":")
        if not sep or not repo:
            msg = f"not a repository citation (expected 'repo:path:start-end@sha'): {text!r}"
            raise ValueError(msg)
        inner = Citation.parse(rest)
        return cls(inner.path, inner.start_line, inner.end_line, inner.commit, repo)


@dataclass(frozen=True, slots=True)
class RepoHit(Hit):
    """A hit from one repository of several; its id is qualified by the repository so that
    ids stay unique across repositories."""

    repo: str = ""

    @property
    def citation(self) -> RepoCitation:
        c = self.chunk
        return RepoCitation(c.path, c.start_line, c.end_line, self.commit, self.repo)


class _SharedQueries:
    """One embedder for many retrievers: the last query's vector is reused, so a question is
    embedded once however many repositories are searched."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._last: tuple[Any, np.ndarray] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)

    @property
    def fingerprint(self) -> str:
        return self._embedder.fingerprint

    @property
    def dim(self) -> int:
        return self._embedder.dim

    @property
    def max_length(self) -> int:
        return self._embedder.max_length

    def count_tokens(self, text: str) -> int:
        return self._embedder.count_tokens(text)

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self._embedder.encode_documents(texts, show_progress=show_progress)

    def encode_queries(
        self, texts: Sequence[str], *, task: str | None = None, instruction: str | None = None
    ) -> np.ndarray:
        key = (tuple(texts), task, instruction)
        if self._last is None or self._last[0] != key:
            vectors = self._embedder.encode_queries(texts, task=task, instruction=instruction)
            self._last = (key, vectors)
        return self._last[1]


class MultiRepoRetriever:
    """Hybrid search over several repositories' indexes (see the module docs).

    Args:
        retrievers: Repository name → its retriever (all with one embedding model).

    Example:
        >>> multi = MultiRepoRetriever.from_paths(["svc-a", "svc-b"])  # doctest: +SKIP
        >>> for hit in multi.search("where are uploads retried?"):      # doctest: +SKIP
        ...     print(hit.citation)  # svc-a:src/upload.py:10-42@1a2b3c4d5e6f
    """

    def __init__(self, retrievers: Mapping[str, CodeRetriever]) -> None:
        if not retrievers:
            msg = "MultiRepoRetriever needs at least one repository"
            raise ValueError(msg)
        bad = [name for name in retrievers if ":" in name or not name]
        if bad:
            msg = f"repository names must be non-empty and free of ':': {bad}"
            raise ValueError(msg)
        self.retrievers = dict(retrievers)
        self._views: dict[str, GitView] = {}

    @classmethod
    def from_paths(
        cls,
        repo_paths: Sequence[str | os.PathLike[str]],
        *,
        model: str | os.PathLike[str] | None = None,
        encoder: Embedder | None = None,
        store_dir: str | os.PathLike[str] | None = None,
        chroma_host: str | None = None,
        chroma_port: int | None = None,
        **options: Any,
    ) -> MultiRepoRetriever:
        """Open the indexes of several repositories, built into one store by
        ``c2rag index REPO REPO ...`` (or each into ``store_dir``).

        Args:
            repo_paths: Paths inside the indexed work trees.
            model: The embedding model; default: the first index's own model.
            encoder: An embedder to use instead of loading ``model``.
            store_dir: The shared data directory (default: that of ``c2rag index`` with
                several repositories, :func:`c2rag.org.default_org_store_dir`).
            chroma_host: A Chroma server host.
            chroma_port: Its port.
            **options: Passed to each :class:`CodeRetriever`.

        Raises:
            ValueError: A path is not a git repository (named).
            IndexNotFoundError: A repository has no index there (the message says how to
                build it).
        """
        from c2rag.org.indexer import default_org_store_dir

        refs, problems = resolve_repos(repo_paths)
        if problems:
            named = "; ".join(f"{p.given}: {p.reason}" for p in problems)
            raise ValueError(f"cannot search {named}")
        store_dir = store_dir or default_org_store_dir()
        stores: list[tuple[RepoRef, IndexStore]] = []
        try:
            for ref in refs:
                location = StoreLocation.for_repo(
                    ref.root, store_dir=store_dir, host=chroma_host, port=chroma_port
                )
                stores.append((ref, IndexStore.open(location)))
            if encoder is None:
                manifest = stores[0][1].manifest
                if model is None and manifest is not None:
                    model = manifest.model_ref or manifest.model_name
                from c2rag.encode.engine import Encoder

                encoder = Encoder(model)
            shared = _SharedQueries(encoder)
            return cls(
                {
                    ref.name: CodeRetriever(store, shared, GitRepo(ref.root), **options)
                    for ref, store in stores
                }
            )
        except BaseException:
            for _, store in stores:
                store.close()
            raise

    def close(self) -> None:
        for retriever in self.retrievers.values():
            retriever.close()

    def __enter__(self) -> MultiRepoRetriever:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def search(
        self,
        query: str | Sequence[Any],
        *,
        k: int = 10,
        filters: Any = None,
        neighbours: int = 0,
    ) -> list[Hit]:
        """The ``k`` best chunks across the repositories (as :class:`RepoHit`), each
        repository searched as :meth:`CodeRetriever.search` would.

        Args:
            query: A question or a conversation.
            k: How many results in all.
            filters: Applied in every repository.
            neighbours: Also add up to this many callees/callers of the top hit (from its
                repository).
        """
        return self.search_detailed(query, k=k, filters=filters, neighbours=neighbours).hits

    def search_detailed(
        self,
        query: str | Sequence[Any],
        *,
        k: int = 10,
        filters: Any = None,
        neighbours: int = 0,
        hint: Sequence[str] = (),
    ) -> SearchResult:
        """Like :meth:`search`, with the query as the channels saw it and its notes
        (per-channel rankings are per repository and left out).

        Args:
            hint: Repository-qualified chunk ids an earlier turn points to (see
                :meth:`CodeRetriever.search_detailed`); each repository gets its own.
        """
        merged: list[tuple[float, int, int, str, Hit]] = []
        first: SearchResult | None = None
        hints = _by_repo(hint)
        for order, (name, retriever) in enumerate(self.retrievers.items()):
            result = retriever.search_detailed(
                query, k=k, filters=filters, hint=hints.get(name, ())
            )
            first = first or result
            for rank, hit in enumerate(result.hits):
                merged.append((-hit.score, rank, order, name, hit))
        assert first is not None  # at least one repository
        merged.sort(key=lambda row: row[:3])
        out: list[Hit] = [_qualify(name, hit) for *_, name, hit in merged[:k]]
        if neighbours > 0 and merged:
            name, top = merged[0][3], merged[0][4]
            kept = {h.id for *_, n, h in merged[:k] if n == name}
            more = self.retrievers[name].neighbours(top, limit=neighbours, exclude=kept)
            out += [_qualify(name, hit) for hit in more]
        return SearchResult(out, first.query, {}, first.notes, first.has_identifiers)

    def neighbours(
        self,
        hit: Hit,
        *,
        limit: int = 4,
        exclude: set[str] | None = None,
        direction: str = "both",
    ) -> list[Hit]:
        """Callees and callers of a :class:`RepoHit`, from its own repository (see
        :meth:`CodeRetriever.neighbours`)."""
        name = _repo_of(hit)
        skip = set(_by_repo(exclude or ()).get(name, ()))
        found = self.retrievers[name].neighbours(
            _unqualify(hit), limit=limit, exclude=skip, direction=direction
        )
        return [_qualify(name, h) for h in found]

    def fetch(self, ids: Sequence[str]) -> dict[str, Hit]:
        """Chunks by repository-qualified id, as :class:`RepoHit` with score 0."""
        out: dict[str, Hit] = {}
        for name, inner in _by_repo(ids).items():
            for hit in self.retrievers[name].fetch(inner).values():
                qualified = _qualify(name, hit)
                out[qualified.id] = qualified
        return out

    def class_outline(self, member: Hit) -> list[str]:
        """Qualified ids of the chunks defining the class a :class:`RepoHit` belongs to."""
        name = _repo_of(member)
        outline = self.retrievers[name].class_outline(_unqualify(member))
        return [f"{name}:{cid}" for cid in outline]

    def localize(
        self,
        text: str,
        *,
        k: int = 10,
        filters: Any = None,
        symbols_per_file: int = 5,
    ) -> Localization:
        """The ``k`` files across the repositories that a report points at; paths (and so
        citations) read ``repo:path``. See :func:`c2rag.org.localize.localize_across`."""
        from c2rag.org.localize import localize_across

        return localize_across(
            self.retrievers, text, k=k, filters=filters, symbols_per_file=symbols_per_file
        )

    def source(self, hit: Hit) -> str | None:
        """The text of a :class:`RepoHit`'s file at its blob (for context packing)."""
        return self._view(hit).source(_unqualify(hit))

    def freshness(self, hit: Hit) -> Any:
        """Indexed commit against the repository's HEAD, for a :class:`RepoHit`."""
        return self._view(hit).freshness(_unqualify(hit))

    def _view(self, hit: Hit) -> GitView:
        name = getattr(hit, "repo", "")
        if name not in self._views:
            self._views[name] = GitView(self.retrievers[name].repo)
        return self._views[name]


def _repo_of(hit: Hit) -> str:
    return getattr(hit, "repo", "") or hit.id.partition(":")[0]


def _by_repo(ids: Iterable[str]) -> dict[str, list[str]]:
    """Repository-qualified ids grouped by repository, unqualified, in order."""
    out: dict[str, list[str]] = {}
    for qualified in ids:
        name, sep, inner = qualified.partition(":")
        if sep:
            out.setdefault(name, []).append(inner)
    return out


def _qualify(repo: str, hit: Hit) -> RepoHit:
    return RepoHit(**_fields_of(hit, id=f"{repo}:{hit.id}"), repo=repo)


def _unqualify(hit: Hit) -> Hit:
    repo = _repo_of(hit)
    return Hit(**_fields_of(hit, id=hit.id.removeprefix(f"{repo}:")))


def _fields_of(hit: Hit, **changes: Any) -> dict[str, Any]:
    """A hit's :class:`Hit` fields (channels, contributions, members included) as keywords."""
    values = {f.name: getattr(hit, f.name) for f in fields(Hit)}
    return {**values, **changes}
