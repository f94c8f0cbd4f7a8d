"""Plan one repository's update without writing: the chunk texts it still needs vectors for.

:class:`PlannedIndex` is a :class:`c2rag.index.CodeIndex` that can also :meth:`~PlannedIndex.plan`
an update: the same file list, ``git diff`` and store comparison, scanning and chunking each
file once (verdicts and chunks are kept for the update that follows, so nothing is scanned or
chunked twice), then the cache and store lookups of :class:`c2rag.store.vectors.VectorSource`.
What is still missing is what an organisation-wide run sends to the embedding cluster. The
update itself stays :meth:`CodeIndex.update`, under its lock and in its order; when the plan
went stale meanwhile it simply embeds the difference locally.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from c2rag.git import GitRepo
from c2rag.git.secrets import SecretFinding, SecretMode, SecretScanner
from c2rag.index import CodeIndex, _branch_label, _loader
from c2rag.store import IndexStore
from c2rag.store.chroma import ChromaWriter
from c2rag.store.faults import store_faults
from c2rag.store.sync import BranchSync
from c2rag.store.vectors import VectorSource, VectorStats

if TYPE_CHECKING:
    from c2rag.chunk import Chunker
    from c2rag.types import Embedder

__all__ = ["PlannedIndex", "RepoPlan"]

logger = logging.getLogger(__name__)


@dataclass
class RepoPlan:
    """What one repository's update will need."""

    commit: str
    mode: str
    """The update's mode as planned (``full``, ``incremental``, ``up_to_date``, …)."""
    texts: dict[str, str] = field(default_factory=dict)
    """Content hash → text of the chunks to write."""
    missing: dict[str, str] = field(default_factory=dict)
    """The part of :attr:`texts` found in neither the cache nor the store: to embed."""
    lookups: VectorStats = field(default_factory=VectorStats)


class _MemoChunker:
    """A chunker that keeps its results by (path, content), so the update after a plan
    reuses the plan's chunks."""

    def __init__(self, chunker: Chunker) -> None:
        self._chunker = chunker
        self._memo: dict[tuple[str, str], Any] = {}

    @property
    def version(self) -> str:
        return self._chunker.version

    def skip_reason(self, path: str, data: bytes) -> str | None:
        return self._chunker.skip_reason(path, data)

    def chunk(self, path: str, data: bytes) -> Any:
        key = (path, hashlib.sha256(data).hexdigest())
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._chunker.chunk(path, data)
        return found

    def clear(self) -> None:
        self._memo.clear()


class _MemoScanner(SecretScanner):
    """A secret scanner that keeps its verdicts by (allowlist, path, content), so the update
    after a plan neither scans a file again nor warns about its secrets twice."""

    def __init__(
        self, allow: str, *, mode: SecretMode, memo: dict[tuple[str, str, str], Any]
    ) -> None:
        super().__init__(allow, mode=mode)
        self._memo = memo
        self._policy = hashlib.sha256(f"{mode}\0{allow}".encode()).hexdigest()

    def check(self, path: str, data: bytes) -> tuple[bytes | None, list[SecretFinding]]:
        key = (self._policy, path, hashlib.sha256(data).hexdigest())
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = super().check(path, data)
        return found


class _Lookup(VectorSource):
    """The cache and store tiers of a vector source, recording what they lack instead of
    embedding it."""

    missing: dict[str, str]

    def _embed(
        self, missing: list[str], texts: Mapping[str, str], keys: dict[str, str], stats: VectorStats
    ) -> None:
        self.missing = {h: texts[h] for h in missing}


class PlannedIndex(CodeIndex):
    """A :class:`CodeIndex` whose updates can be planned first (see the module docs)."""

    _memo: _MemoChunker | None = None
    _scans: dict[tuple[str, str, str], Any] | None = None

    def plan(
        self,
        ref: str = "HEAD",
        *,
        worktree: bool = False,
        branch: str | None = None,
        rebuild: bool = False,
    ) -> RepoPlan:
        """What :meth:`update` with the same arguments would embed, writing nothing.

        Vectors found in the store (not the cache) are copied into the cache, as the update
        would; that is the only write.

        Raises:
            GitError: ``ref`` does not resolve.
            IndexMismatchError: The index was built with another model.
        """
        with GitRepo(self.repo_root) as repo:
            if not repo.has_commits():
                return RepoPlan(commit="", mode="empty")
            label = branch or _branch_label(repo, ref)
            commit = repo.resolve(ref)
            # the lock, as in update(): opening with create=True may create the store
            with (
                store_faults(self.location, "plan the index"),
                IndexStore.write_lock(self.location),
            ):
                store = IndexStore.open(self.location, create=True)
                try:
                    return self._plan_embedding(
                        repo, store, commit, label, worktree=worktree, rebuild=rebuild
                    )
                finally:
                    store.close()

    def release_chunks(self) -> None:
        """Forget the chunks kept since :meth:`plan` (call after :meth:`update`)."""
        if self._memo is not None:
            self._memo.clear()
        if self._scans is not None:
            self._scans.clear()

    def _plan_embedding(
        self,
        repo: GitRepo,
        store: IndexStore,
        commit: str,
        label: str,
        *,
        worktree: bool,
        rebuild: bool,
    ) -> RepoPlan:
        manifest = store.reload()
        embedder = self._embedder(manifest)
        if not rebuild:
            store.check_compatible(embedder)
        chunker = self._chunker(embedder)
        planned = self._plan(repo, store, None if rebuild else manifest, label, commit, worktree)
        allow = self._allowlist(repo, planned.by_path)
        report, by_path, desired, paths = (
            planned.report,
            planned.by_path,
            planned.desired,
            planned.paths,
        )
        if rebuild or self._built_otherwise(manifest, chunker, allow):
            # update() will reset the store: every file is new to it
            report.mode = "full"
            paths = set(desired)
        plan = RepoPlan(commit=commit, mode=report.mode)
        if report.mode == "up_to_date":
            return plan
        store_empty = report.mode == "full"
        lookup = _Lookup(
            store.cache, embedder, collection=None if store_empty else store.collection
        )
        lookup.missing = {}
        sync = BranchSync(
            store.collection,
            ChromaWriter(store.collection, store.client, max_batch=self.write_batch_size),
            lookup,
            branch=label,
            commit=commit,
            view=self.view,
        )
        load = _loader(repo, by_path, chunker, self._scanner(allow), report)
        plan.texts = sync.texts_to_embed(paths, desired, load, store_empty=store_empty)
        plan.lookups = lookup.ensure(plan.texts)
        plan.missing = lookup.missing
        return plan

    def _scanner(self, allow: str) -> SecretScanner:
        # the same verdicts for the plan and the update that follows it
        if self._scans is None:
            self._scans = {}
        return _MemoScanner(allow, mode=self.secrets, memo=self._scans)

    def _chunker(self, embedder: Embedder) -> Any:
        # the same memo for the plan and the update that follows it
        if self._memo is None:
            self._memo = _MemoChunker(super()._chunker(embedder))
        return self._memo
