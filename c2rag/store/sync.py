"""Bring one branch's records for a set of paths in line with the files it should hold.

The indexer says which paths may have changed (from ``git diff``) and what each should hold
now (a blob, or nothing); :class:`BranchSync` compares that with the records actually in the
collection and makes the smallest set of writes:

- a record set of the wanted (path, blob) that is already complete (from another branch or
  an earlier run) only gets this branch's flag: no chunking, no embedding;
- records of other blobs at the path lose the flag, and are deleted when no branch is left;
- a wanted file with no complete record set is chunked; its vectors come from the cache,
  then from records with the same content hash, and only then from the model (a symbol's
  stored vector blends its text's with its signature view's, see ``store.views``).

Because it compares with what is stored rather than trusting a log, rerunning it after a
crash at any point finishes the job.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tqdm.auto import tqdm

from c2rag.store.chroma import ChromaWriter, get_all
from c2rag.store.records import branch_key, branches_of, chunk_to_record
from c2rag.store.vectors import VectorSource, VectorStats
from c2rag.store.views import SignatureView, VectorRecipe
from c2rag.types import Chunk

__all__ = ["BranchSync", "FileState", "LoadChunks", "SyncResult"]

logger = logging.getLogger(__name__)

_WHERE_IN_BATCH = 500
WORKTREE_COMMIT = "worktree"
"""``commit`` value of records cut from uncommitted working-tree files."""


@dataclass(frozen=True)
class FileState:
    """The content a branch should hold at ``path``."""

    path: str
    blob_sha: str
    source: str = "commit"
    """``"commit"`` or ``"worktree"``."""


LoadChunks = Callable[[FileState], tuple[list[Chunk], str | None]]
"""Read and chunk a file: ``(chunks, None)`` or ``([], reason it is skipped)``."""


@dataclass
class SyncResult:
    """What one sync did."""

    files_changed: int = 0
    files_chunked: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    chunks_added: int = 0
    chunks_relabelled: int = 0
    chunks_removed: int = 0
    chunks_tagged: int = 0
    chunks_untagged: int = 0
    added: list[tuple[str, Chunk]] = field(default_factory=list)
    """``(id, chunk)`` of every record written, for the lexical index."""
    removed_ids: list[str] = field(default_factory=list)
    vectors: VectorStats = field(default_factory=VectorStats)


_Existing = dict[tuple[str, str], list[tuple[str, dict[str, Any]]]]
"""(path, blob) → the ``(id, metadata)`` of its stored records."""


@dataclass
class _Plan:
    tag: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    untag: list[str] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    to_chunk: list[tuple[FileState, set[str]]] = field(default_factory=list)
    files_changed: int = 0


class BranchSync:
    """Record writes for one branch label at one commit.

    Args:
        collection: The Chroma collection.
        writer: Batched writer on it.
        vectors: Where vectors come from.
        branch: The branch label whose flag is managed.
        commit: The commit being indexed (written as ``commit`` of new records).
        view: The signature view blended into symbols' vectors; ``None``: none.
        show_progress: Show tqdm bars.
    """

    def __init__(
        self,
        collection: Any,
        writer: ChromaWriter,
        vectors: VectorSource,
        *,
        branch: str,
        commit: str,
        view: SignatureView | None = None,
        show_progress: bool = False,
    ) -> None:
        self.collection = collection
        self.writer = writer
        self.vectors = vectors
        self.branch = branch
        self.flag = branch_key(branch)
        self.commit = commit
        self.view = view or SignatureView(weight=0.0)
        self.show_progress = show_progress

    def run(
        self,
        paths: Iterable[str],
        desired: Mapping[str, FileState],
        load: LoadChunks,
        *,
        renamed: Mapping[str, str] | None = None,
        store_empty: bool = False,
    ) -> SyncResult:
        """Reconcile ``paths``: afterwards this branch's records there are exactly those of
        ``desired`` (path → wanted file; a path absent from it should have no records).

        Args:
            paths: Paths that may differ from what is stored.
            desired: Wanted file per path (may hold more paths than ``paths``).
            load: Reads and chunks a wanted file.
            renamed: New path → old path for files git saw renamed (reported as relabelled).
            store_empty: The collection is known to be empty (skips the lookups).
        """
        result = SyncResult()
        plan, records, recipes = self._prepare(paths, desired, load, store_empty, result)
        result.files_changed = plan.files_changed
        result.vectors = self.vectors.ensure_recipes(recipes)
        self._write(records, plan.tag, plan.untag, plan.delete)
        renamed = renamed or {}
        for _, _, meta in records:
            if meta["path"] in renamed:
                result.chunks_relabelled += 1
            else:
                result.chunks_added += 1
        result.chunks_tagged = len(plan.tag)
        result.chunks_untagged = len(plan.untag)
        result.chunks_removed = len(plan.delete)
        result.removed_ids = plan.delete
        return result

    def texts_to_embed(
        self,
        paths: Iterable[str],
        desired: Mapping[str, FileState],
        load: LoadChunks,
        *,
        store_empty: bool = False,
    ) -> dict[str, str]:
        """The texts :meth:`run` would need vectors for (content hash → text: chunk texts and
        signature views), found the same way but writing nothing: lets a planner embed many
        repositories' texts at once before their runs."""
        _, _, recipes = self._prepare(paths, desired, load, store_empty, SyncResult())
        return self.vectors.needed(recipes)

    def _prepare(
        self,
        paths: Iterable[str],
        desired: Mapping[str, FileState],
        load: LoadChunks,
        store_empty: bool,
        result: SyncResult,
    ) -> tuple[_Plan, list[tuple[str, str, dict[str, Any]]], list[VectorRecipe]]:
        wanted_paths = sorted(set(paths))
        existing: _Existing = {} if store_empty else self._existing(wanted_paths)
        plan = self._plan(wanted_paths, desired, existing)
        return plan, *self._chunk(plan.to_chunk, load, result)

    def _plan(
        self, paths: list[str], desired: Mapping[str, FileState], existing: _Existing
    ) -> _Plan:
        """Compare each path's wanted file with its stored record sets."""
        plan = _Plan()
        groups_of: dict[str, list[str]] = defaultdict(list)  # path → blobs stored there
        for path, blob in existing:
            groups_of[path].append(blob)
        for path in paths:
            want = desired.get(path)
            changed = False
            for blob in groups_of.get(path, ()):
                if want is not None and blob == want.blob_sha:
                    continue
                for rid, meta in existing[(path, blob)]:
                    if meta.get(self.flag):  # another version of the file leaves the branch
                        changed = True
                        if branches_of(meta) - {self.branch}:
                            plan.untag.append(rid)
                        else:
                            plan.delete.append(rid)
            if want is not None:
                group = existing.get((path, want.blob_sha), [])
                if group and _complete(group):
                    for rid, meta in group:
                        update = self._relabel(meta, want)
                        if update:
                            plan.tag.append((rid, update))
                            changed = True
                else:  # new content, or a write cut short: (re)write the whole file
                    flags = set().union(*(branches_of(m) for _, m in group))
                    plan.to_chunk.append((want, flags | {self.branch}))
                    changed = True
            plan.files_changed += changed
        return plan

    def _relabel(self, meta: Mapping[str, Any], want: FileState) -> dict[str, Any]:
        """Metadata changes that make a complete stored record fit ``want`` on this branch."""
        update: dict[str, Any] = {}
        if not meta.get(self.flag):
            update[self.flag] = True
        if want.source == "commit" and meta.get("source") == "worktree":
            # the uncommitted file has since been committed: cite the commit now
            update.update(source="commit", commit=self.commit)
        return update

    def _existing(self, paths: list[str]) -> _Existing:
        groups: _Existing = defaultdict(list)
        for start in range(0, len(paths), _WHERE_IN_BATCH):
            where = {"path": {"$in": paths[start : start + _WHERE_IN_BATCH]}}
            for rid, _, meta in get_all(self.collection, where=where):
                groups[(str(meta["path"]), str(meta["blob_sha"]))].append((rid, meta))
        return groups

    def _chunk(
        self, files: list[tuple[FileState, set[str]]], load: LoadChunks, result: SyncResult
    ) -> tuple[list[tuple[str, str, dict[str, Any]]], list[VectorRecipe]]:
        """The records of ``files``, and how each one's vector is made."""
        records: list[tuple[str, str, dict[str, Any]]] = []
        recipes: list[VectorRecipe] = []
        bar = tqdm(files, desc="chunk", unit="file", disable=not self.show_progress)
        for state, branches in bar:
            chunks, reason = load(state)
            result.files_chunked += 1
            if reason is not None:
                result.skipped.append((state.path, reason))
                continue
            commit = self.commit if state.source == "commit" else WORKTREE_COMMIT
            for ordinal, chunk in enumerate(chunks):
                rid, doc, meta = chunk_to_record(
                    chunk,
                    blob_sha=state.blob_sha,
                    commit=commit,
                    ordinal=ordinal,
                    file_chunks=len(chunks),
                    branches=sorted(branches),
                    source=state.source,
                )
                recipe = self.view.recipe(doc, meta)
                meta.update(vector_key=recipe.key, view_hash=recipe.view_hash)
                records.append((rid, doc, meta))
                recipes.append(recipe)
                result.added.append((rid, chunk))
        return records, recipes

    def _write(
        self,
        records: list[tuple[str, str, dict[str, Any]]],
        tag: list[tuple[str, dict[str, Any]]],
        untag: list[str],
        delete: list[str],
    ) -> None:
        # New records first, removals last: a reader during the update sees the old and
        # the new version of a file side by side, never neither.
        total = len(records) + len(tag) + len(untag) + len(delete)
        bar = tqdm(total=total, desc="write", unit="record", disable=not self.show_progress)
        try:
            size = self.writer.batch_size
            for start in range(0, len(records), size):
                batch = records[start : start + size]
                vectors = self.vectors.get([meta["vector_key"] for _, _, meta in batch])
                self.writer.upsert(
                    [rid for rid, _, _ in batch],
                    vectors,
                    [doc for _, doc, _ in batch],
                    [meta for _, _, meta in batch],
                )
                bar.update(len(batch))
            self.writer.update_metadata([rid for rid, _ in tag], [u for _, u in tag])
            bar.update(len(tag))
            self.writer.update_metadata(untag, [{self.flag: None}] * len(untag))
            bar.update(len(untag))
            self.writer.delete(delete)
            bar.update(len(delete))
        finally:
            bar.close()


def _complete(group: list[tuple[str, dict[str, Any]]]) -> bool:
    """Whether a (path, blob) record set holds every chunk of its file."""
    expected = int(group[0][1].get("file_chunks", -1))
    ordinals = {int(meta.get("ordinal", -1)) for _, meta in group}
    return ordinals == set(range(expected))
