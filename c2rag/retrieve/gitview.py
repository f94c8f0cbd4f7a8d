"""What the packer asks of git: a hit's file text at its commit, and whether it changed since.

Results are cached per blob and per indexed commit, so packing many hits costs one diff.
"""

from __future__ import annotations

import logging
from typing import Any

from c2rag.context.model import Freshness
from c2rag.errors import GitError
from c2rag.types import Hit

__all__ = ["GitView"]

logger = logging.getLogger(__name__)


class GitView:
    """File text and freshness for hits, read from a :class:`c2rag.git.GitRepo`.

    Args:
        repo: The repository the index was built from.
        worktree: Count uncommitted edits in the working tree as changes.
    """

    def __init__(self, repo: Any, *, worktree: bool = True) -> None:
        self.repo = repo
        self.worktree = worktree
        self._text: dict[tuple[str, str], str | None] = {}
        self._changed: dict[str, set[str] | None] = {}
        self._head: str | None = None

    def refresh(self) -> None:
        """Forget cached HEAD and diffs (call when the repository moved)."""
        self._changed.clear()
        self._head = None

    def source(self, hit: Hit) -> str | None:
        """The text of the hit's file at the indexed blob, or ``None`` if unreadable."""
        from c2rag.git import FileEntry

        key = (hit.chunk.path, hit.blob_sha)
        if key not in self._text:
            text: str | None = None
            if hit.blob_sha:
                try:
                    entry = FileEntry(hit.chunk.path, hit.blob_sha, 0o100644, 0, "commit")
                    text = self.repo.read(entry).decode("utf-8", "replace")
                except (GitError, OSError, ValueError) as exc:
                    logger.debug("cannot read %s@%s: %s", hit.chunk.path, hit.blob_sha, exc)
            self._text[key] = text
        return self._text[key]

    def head(self) -> str | None:
        if self._head is None:
            try:
                self._head = self.repo.resolve("HEAD")
            except GitError:
                return None
        return self._head

    def freshness(self, hit: Hit) -> Freshness:
        """Indexed commit vs current HEAD (and working tree), for the hit's file."""
        head = self.head()
        if not hit.commit or head is None:
            return Freshness(hit.commit, head, None)
        changed = self._changed_paths(hit.commit, head)
        if changed is None:
            return Freshness(hit.commit, head, None)
        return Freshness(hit.commit, head, hit.chunk.path in changed)

    def _changed_paths(self, commit: str, head: str) -> set[str] | None:
        if commit not in self._changed:
            try:
                self._changed[commit] = self._diff(commit, head)
            except GitError as exc:
                logger.debug("cannot diff %s..%s: %s", commit, head, exc)
                self._changed[commit] = None
        return self._changed[commit]

    def _diff(self, commit: str, head: str) -> set[str]:
        paths: set[str] = set()
        if commit != head:
            for change in self.repo.diff(commit, head):
                paths.add(change.path)
                if change.old_path:
                    paths.add(change.old_path)
        if self.worktree:
            entries, deleted, _ = self.repo.worktree_overlay(head)
            paths |= {e.path for e in entries} | set(deleted)
        return paths
