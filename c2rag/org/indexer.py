"""Index many repositories into one store: a collection each, one shared embedding cache.

A run has three steps:

1. **plan** every repository (:meth:`PlannedIndex.plan`): chunk what changed, look vectors up
   in the shared cache and the store;
2. **embed** the union of what is missing, once per distinct text however many repositories
   hold it: on a Ray cluster (:class:`c2rag.org.ray_embed.RayEmbedding`) or in this process;
3. **update** each repository with :meth:`CodeIndex.update` (its lock, its order, its
   manifest), which now finds every vector in the cache.

A repository that fails (not a git repository, a bad ref, another model) is named in the
report; the others proceed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from c2rag.errors import C2RAGError
from c2rag.index_report import IndexReport
from c2rag.org.plan import PlannedIndex, RepoPlan
from c2rag.org.repos import RepoRef, resolve_repos
from c2rag.store.cache import EmbeddingCache
from c2rag.store.vectors import VectorSource

if TYPE_CHECKING:
    from c2rag.org.ray_embed import RayEmbedding
    from c2rag.types import Embedder

__all__ = ["OrgIndex", "OrgReport", "RepoOutcome", "default_org_store_dir", "stored_model"]

logger = logging.getLogger(__name__)


def default_org_store_dir() -> Path:
    """Shared data directory of a multi-repository index when none is given:
    ``$C2RAG_HOME/org``, else ``<user data dir>/c2rag/org``."""
    home = os.environ.get("C2RAG_HOME")
    if home:
        return Path(home).expanduser() / "org"
    import platformdirs

    return Path(platformdirs.user_data_dir("c2rag", appauthor=False)) / "org"


def stored_model(
    repos: Sequence[str | os.PathLike[str]],
    *,
    store_dir: str | os.PathLike[str] | None = None,
    chroma_host: str | None = None,
    chroma_port: int | None = None,
) -> str | None:
    """The model the first already-indexed repository of ``repos`` was built with, so that a
    rerun without ``--model`` keeps it; ``None`` when none is indexed yet."""
    from c2rag.errors import IndexNotFoundError
    from c2rag.store import IndexStore, StoreLocation

    refs, _ = resolve_repos(repos)
    for ref in refs:
        location = StoreLocation.for_repo(
            ref.root,
            store_dir=store_dir or default_org_store_dir(),
            host=chroma_host,
            port=chroma_port,
        )
        try:
            with IndexStore.open(location) as store:
                manifest = store.manifest
        except IndexNotFoundError:
            continue
        if manifest is not None:
            return manifest.model_ref or manifest.model_name
    return None


@dataclass
class RepoOutcome:
    """One repository of the run: its update report, or why it was not indexed."""

    name: str
    path: str
    report: IndexReport | None = None
    error: str | None = None


@dataclass
class OrgReport:
    """What one organisation-wide run did."""

    store: str
    repos: list[RepoOutcome] = field(default_factory=list)
    texts_planned: int = 0
    """Chunk texts the updates needed, counted per repository."""
    texts_unique: int = 0
    """Distinct texts among them."""
    cache_hits: int = 0
    store_hits: int = 0
    texts_embedded: int = 0
    tokens_embedded: int = 0
    embed_seconds: float = 0.0
    backend: str = "local"
    actors: int = 0

    @property
    def failed(self) -> list[RepoOutcome]:
        return [r for r in self.repos if r.error is not None]

    def summary(self) -> str:
        lines = []
        for outcome in self.repos:
            if outcome.report is not None:
                lines.append(f"{outcome.name}: {outcome.report.summary()}")
            else:
                lines.append(f"{outcome.name}: NOT INDEXED ({outcome.path}): {outcome.error}")
        rate = self.tokens_embedded / self.embed_seconds if self.embed_seconds > 0 else 0.0
        where = f"Ray, {self.actors} actors" if self.backend == "ray" else "this process"
        lines.append(
            f"{len(self.repos) - len(self.failed)}/{len(self.repos)} repositories indexed into "
            f"{self.store}; {self.texts_planned} chunk texts needed, {self.texts_unique} "
            f"distinct, {self.cache_hits} from the cache, {self.store_hits} from the store; "
            f"{self.texts_embedded} embedded ({self.tokens_embedded} tokens, {rate:.0f} tokens/s) "
            f"in {where}"
        )
        return "\n".join(lines)


class OrgIndex:
    """Many repositories in one store (see the module docs).

    Args:
        repos: Repository paths (each any path inside a work tree).
        encoder: The embedder on this process (chunk sizing, fingerprint, and the local
            embedding when no Ray cluster is given); shared by every repository.
        store_dir: The shared data directory (default :func:`default_org_store_dir`).
        chroma_host: Keep the collections on this Chroma server.
        chroma_port: Its port.
        ray: Embed on this cluster connection instead of in this process.
        show_progress: Progress bars.
        **index_options: Passed to each :class:`c2rag.index.CodeIndex`.
    """

    def __init__(
        self,
        repos: Sequence[str | os.PathLike[str]],
        *,
        encoder: Embedder,
        store_dir: str | os.PathLike[str] | None = None,
        chroma_host: str | None = None,
        chroma_port: int | None = None,
        ray: RayEmbedding | None = None,
        show_progress: bool = False,
        **index_options: object,
    ) -> None:
        self.refs, self.problems = resolve_repos(repos)
        self.encoder = encoder
        self.store_dir = str(Path(store_dir or default_org_store_dir()).expanduser().resolve())
        self.ray = ray
        self.show_progress = show_progress
        self._where = {"chroma_host": chroma_host, "chroma_port": chroma_port}
        self._options = index_options

    def _index(self, ref: RepoRef) -> PlannedIndex:
        return PlannedIndex(
            ref.root,
            encoder=self.encoder,
            store_dir=self.store_dir,
            show_progress=self.show_progress,
            **self._where,  # type: ignore[arg-type]
            **self._options,  # type: ignore[arg-type]
        )

    def update(
        self,
        ref: str = "HEAD",
        *,
        worktree: bool = False,
        branch: str | None = None,
        rebuild: bool = False,
    ) -> OrgReport:
        """Plan, embed and update every repository; never raises for one repository's error
        (it is in the report)."""
        outcomes = {r.name: RepoOutcome(r.name, str(r.root)) for r in self.refs}
        report = OrgReport(store=self.store_dir)
        report.repos = [RepoOutcome(p.given, p.given, error=p.reason) for p in self.problems]
        if self.ray is not None:
            self.ray.connect()  # a cluster that cannot be joined fails before any work
        indexes = {r.name: self._index(r) for r in self.refs}
        plans: dict[str, RepoPlan] = {}
        for repo in self.refs:
            try:
                plans[repo.name] = indexes[repo.name].plan(
                    ref, worktree=worktree, branch=branch, rebuild=rebuild
                )
            except C2RAGError as exc:
                outcomes[repo.name].error = str(exc)
                logger.warning("%s: not indexed: %s", repo.name, exc)
        self._embed(plans, report)
        for repo in self.refs:
            outcome = outcomes[repo.name]
            if outcome.error is None:
                index = indexes[repo.name]
                try:
                    outcome.report = index.update(
                        ref, worktree=worktree, branch=branch, rebuild=rebuild
                    )
                except C2RAGError as exc:
                    outcome.error = str(exc)
                    logger.warning("%s: not indexed: %s", repo.name, exc)
                finally:
                    index.release_chunks()
            report.repos.append(outcome)
        return report

    def _embed(self, plans: dict[str, RepoPlan], report: OrgReport) -> None:
        missing: dict[str, str] = {}
        unique: set[str] = set()
        for plan in plans.values():
            report.texts_planned += len(plan.texts)
            unique.update(plan.texts)
            report.store_hits += plan.lookups.store_hits
            missing.update(plan.missing)
        report.texts_unique = len(unique)
        report.cache_hits = max(0, len(unique) - len(missing) - report.store_hits)
        if not missing:
            return
        cache = EmbeddingCache(Path(self.store_dir) / "embeddings.sqlite")
        try:
            if self.ray is not None:
                stats = self.ray.embed_into(cache, missing)
                report.backend = "ray"
                report.actors = stats.actors
                report.texts_embedded = stats.texts
                report.tokens_embedded = stats.tokens
                report.embed_seconds = stats.seconds
            else:
                import time

                start = time.perf_counter()
                vectors = VectorSource(cache, self.encoder, show_progress=self.show_progress)
                local = vectors.ensure(missing)
                report.texts_embedded = local.texts_embedded
                report.tokens_embedded = local.tokens_embedded
                report.embed_seconds = time.perf_counter() - start
        finally:
            cache.close()
