"""What an index update did (:class:`IndexReport`); where an index stands (:class:`IndexStatus`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from c2rag.store.manifest import Calibration
    from c2rag.store.sync import SyncResult

__all__ = ["IndexMode", "IndexReport", "IndexStatus"]

IndexMode = Literal["full", "reconcile", "incremental", "up_to_date", "empty"]
"""How an update ran: ``full`` (empty store), ``reconcile`` (a branch new to a non-empty store,
or after an interrupted run or a lost commit: every path compared with the store),
``incremental`` (by ``git diff`` from the indexed commit), ``up_to_date``, ``empty``
(a repository without commits)."""


@dataclass
class IndexReport:
    """Counts of one :meth:`c2rag.index.CodeIndex.update`."""

    repo: str
    store: str
    branch: str
    commit: str
    mode: IndexMode
    previous_commit: str | None = None
    files_seen: int = 0
    """Indexable files of the commit (plus overlay files)."""
    files_checked: int = 0
    """Paths compared with the store: those ``git diff`` names since the indexed commit (both
    names of a rename, plus working-tree files), or every file for a full build or a
    reconcile. ``c2rag status`` counts the same paths before an update."""
    files_changed: int = 0
    """Paths whose stored records had to change for this branch."""
    files_chunked: int = 0
    files_skipped: list[tuple[str, str]] = field(default_factory=list)
    """``(path, reason)`` for every path not indexed: from git (submodule, symlink, secret,
    vendored, …) and from the chunker (binary, too_large, generated, minified, lock_file)."""
    files_flagged: list[tuple[str, str]] = field(default_factory=list)
    """``(path, flag)`` for files indexed with a caveat (e.g. ``non_utf8``)."""
    vendored_dirs: dict[str, int] = field(default_factory=dict)
    """Files left out per vendored directory (``third_party/``, ``web/node_modules/``)."""
    generated_dirs: dict[str, int] = field(default_factory=dict)
    """Files of this update found generated, per directory (two levels at most:
    ``lib/commonjs/``, ``build/``; ``./`` for the top level)."""
    chunks_added: int = 0
    chunks_relabelled: int = 0
    """Records written for renamed files (their vectors are reused, nothing is re-embedded)."""
    chunks_removed: int = 0
    chunks_tagged: int = 0
    """Stored records that gained this branch (shared with another branch or run)."""
    chunks_untagged: int = 0
    """Records that left this branch but stay for another one."""
    chunks_total: int = 0
    texts_embedded: int = 0
    tokens_embedded: int = 0
    cache_hits: int = 0
    store_hits: int = 0
    """Vectors taken from stored records with the same text (e.g. a cache on another machine)."""
    calibration_seconds: float | None = None
    """Wall time this update spent measuring the channels (``None``: it did not measure;
    see :mod:`c2rag.calibrate`)."""
    notes: list[str] = field(default_factory=list)

    def add_sync(self, result: SyncResult) -> None:
        """Take the counts of the record sync of this update."""
        for name in (
            "files_changed",
            "files_chunked",
            "chunks_added",
            "chunks_relabelled",
            "chunks_removed",
            "chunks_tagged",
            "chunks_untagged",
        ):
            setattr(self, name, getattr(result, name))
        self.files_skipped += result.skipped
        generated = [path for path, reason in self.files_skipped if reason == "generated"]
        self.generated_dirs = dict(Counter(_directory(path) for path in generated))
        for name in ("texts_embedded", "tokens_embedded", "cache_hits", "store_hits"):
            setattr(self, name, getattr(result.vectors, name))

    def skipped_by_reason(self) -> dict[str, int]:
        """How many paths were skipped for each kind of reason (``secret: line 3 (...)``
        counts as ``secret``; the per-file details are in :attr:`files_skipped`)."""
        kinds = Counter(reason.split(":", 1)[0] for _, reason in self.files_skipped)
        return dict(sorted(kinds.items()))

    def summary(self) -> str:
        """A few lines for people, in the words ``docs/cli.md`` defines."""
        since = f" since {self.previous_commit[:12]}" if self.previous_commit else ""
        lines = [
            f"{_MODE_WORDS[self.mode]}: {self.repo} at {self.commit[:12]} "
            f"(branch {self.branch}), stored in {self.store}",
        ]
        if self.mode == "incremental":
            checked = f"{self.files_checked} changed{since}"
        else:
            checked = f"{self.files_checked} compared with the index"
        lines += [
            f"files: {checked}, {self.files_changed} of them changed the index "
            f"({self.files_chunked} re-chunked); {self.files_seen} indexable in all, "
            f"{len(self.files_skipped)} skipped",
            f"chunks: {self.chunks_added} new, {self.chunks_removed} deleted, "
            f"{self.chunks_relabelled} moved with renamed files, {self.chunks_tagged} shared "
            f"from another branch, {self.chunks_untagged} left to other branches; "
            f"{self.chunks_total} stored",
            f"embedding: {self.texts_embedded} texts ({self.tokens_embedded} tokens) run "
            f"through the model; {self.cache_hits} from the vector cache, {self.store_hits} "
            "copied from the index",
        ]
        if self.files_skipped:
            reasons = ", ".join(f"{r}: {n}" for r, n in self.skipped_by_reason().items())
            lines.append(f"skipped by reason: {reasons}")
            if self.vendored_dirs:
                first = Counter(self.vendored_dirs).most_common(1)[0][0]
                lines.append(
                    f"vendored code left out: {_largest(self.vendored_dirs)}; "
                    f"to index it, add `!{first}` to .c2ragignore"
                )
            if self.generated_dirs:
                lines.append(f"generated files left out: {_largest(self.generated_dirs)}")
            catalogs = Counter(
                PurePosixPath(path).suffix
                for path, reason in self.files_skipped
                if reason == "translation"
            )
            if catalogs:
                kinds = ", ".join(f"*{suffix} ({n} files)" for suffix, n in catalogs.most_common())
                first = catalogs.most_common(1)[0][0]
                lines.append(
                    f"translation catalogs left out: {kinds}; "
                    f"to index them, add `!*{first}` to .c2ragignore"
                )
        redacted = sum(1 for _, flag in self.files_flagged if flag.startswith("secret redacted"))
        if redacted:
            lines.append(f"secrets redacted: lines in {redacted} files (see the warnings above)")
        lines += self.notes
        return "\n".join(lines)


_MODE_WORDS: dict[str, str] = {
    "full": "full build",
    "reconcile": "full comparison",
    "incremental": "incremental update",
    "up_to_date": "already up to date",
    "empty": "nothing to index",
}


@dataclass
class IndexStatus:
    """Where an index stands against the repository (from :meth:`CodeIndex.status`)."""

    repo: str
    store: str
    branch: str
    head_commit: str | None
    indexed_commit: str | None
    files_changed: list[str] = field(default_factory=list)
    """Paths ``c2rag index`` would compare with the store (its ``files_checked``): those
    ``git diff`` names between the indexed commit and ``head_commit``, both names of a rename."""
    update_mode: str = ""
    """What ``c2rag index`` would run: ``incremental``, ``reconcile``, ``up_to_date``,
    ``full`` or ``not_indexed`` (see :data:`IndexMode`)."""
    uncommitted: list[str] = field(default_factory=list)
    """Working-tree paths that differ from ``head_commit`` (modified, staged, untracked and
    not ignored, deleted): not in the index unless it was built with ``--worktree``."""
    worktree_indexed: list[str] = field(default_factory=list)
    """Working-tree paths the last ``--worktree`` update indexed."""
    model_name: str = ""
    model_ref: str = ""
    """Where the model was loaded from: a local directory, or the hub id."""
    model_id: str | None = None
    """The hub id of a local model directory, when its files say (model card, cache path)."""
    dim: int = 0
    chunks: int = 0
    branches: dict[str, str] = field(default_factory=dict)
    """Every indexed branch label → its commit."""
    updated_at: str = ""
    interrupted: bool = False
    """An update of this branch started and did not finish (the next one repairs it)."""
    rebuild_reason: str = ""
    """Why ``c2rag index`` would rebuild the index from cached vectors (the secret policy,
    the allowlist or the signature view changed); empty when it would not."""
    calibration: Calibration | None = None
    """The channels measured on the index's documented functions, per language."""

    @property
    def up_to_date(self) -> bool:
        """Whether the branch is indexed at ``head_commit`` (uncommitted changes are reported
        apart, in :attr:`uncommitted`)."""
        return self.indexed_commit is not None and self.indexed_commit == self.head_commit

    @property
    def model_display(self) -> str:
        """The model's hub id (else its name), and the directory it loads from when local."""
        name = self.model_id or self.model_name
        local = self.model_ref.startswith(("/", "~", ".")) or "\\" in self.model_ref
        if self.model_ref and local and self.model_ref != name:
            return f"{name} (local copy at {self.model_ref})"
        return name

    def summary(self) -> str:
        """A few lines for people."""
        head = self.head_commit[:12] if self.head_commit else "(no commits)"
        if self.indexed_commit is None:
            state = f"branch {self.branch} is not indexed (HEAD {head})"
        elif self.up_to_date:
            state = f"branch {self.branch} is indexed at HEAD ({head})"
        else:
            state = (
                f"branch {self.branch} is indexed at {self.indexed_commit[:12]}; HEAD is {head}; "
                f"`c2rag index` would check {len(self.files_changed)} changed files"
            )
            if self.update_mode == "reconcile":
                state += " (every file: the indexed commit is gone or an update was interrupted)"
        lines = [f"index of {self.repo} in {self.store}", state]
        unindexed = sorted(set(self.uncommitted) - set(self.worktree_indexed))
        if unindexed:
            shown = ", ".join(unindexed[:5]) + (", …" if len(unindexed) > 5 else "")
            lines.append(
                f"uncommitted changes: {len(unindexed)} files differ from HEAD in the working "
                f"tree and are not indexed ({shown}); `c2rag index --worktree` adds them"
            )
        lines.append(
            f"model {self.model_display}, dim {self.dim}; {self.chunks} chunks, "
            f"updated {self.updated_at}"
        )
        others = {b: c for b, c in self.branches.items() if b != self.branch}
        if others:
            lines.append(
                "other branches: " + ", ".join(f"{b} @ {c[:12]}" for b, c in sorted(others.items()))
            )
        if self.calibration is not None and self.calibration.languages:
            lines.append(
                "channels on documented functions, dense / BM25 MRR@10: "
                + self.calibration.describe()
            )
        if self.interrupted:
            lines.append("the last update of this branch was interrupted; run `c2rag index`")
        if self.rebuild_reason:
            lines.append(
                f"`c2rag index` would rebuild every file from cached vectors: {self.rebuild_reason}"
            )
        return "\n".join(lines)


def _directory(path: str) -> str:
    """The directory of ``path``, two levels at most (``lib/commonjs/``), ``./`` at the top."""
    parts = path.split("/")[:-1][:2]
    return "/".join(parts) + "/" if parts else "./"


def _largest(counts: dict[str, int]) -> str:
    """The three directories with the most files: ``third_party/ (2 files), …``."""
    return ", ".join(f"{d} ({n} files)" for d, n in Counter(counts).most_common(3))
