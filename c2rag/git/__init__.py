"""Git layer: a repository's files at a commit, its working tree, diffs, and ignore rules.

Source of truth is git objects: nothing is checked out, so ``.gitignore`` holds by
construction. See :class:`GitRepo`.
"""

from __future__ import annotations

from c2rag.git.ignore import BUILTIN_EXCLUDES, C2RAGIGNORE, IgnoreRules
from c2rag.git.records import Change, FileEntry, Skipped
from c2rag.git.repo import GitRepo
from c2rag.git.worktree import blob_sha

__all__ = [
    "BUILTIN_EXCLUDES",
    "C2RAGIGNORE",
    "Change",
    "FileEntry",
    "GitRepo",
    "IgnoreRules",
    "Skipped",
    "blob_sha",
]
