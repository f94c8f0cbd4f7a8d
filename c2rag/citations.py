"""Open a citation again: the cited lines as they are now, and whether they changed.

An agent holds ``path:start-end@sha`` from an earlier answer and wants the code before it
edits or quotes it. Between the cited commit and now the file may be untouched, edited
elsewhere (the cited lines only moved), edited in those lines, or deleted. :func:`open_citation`
tells which, reading the cited version from git objects and the current one from the working
tree (what an agent would edit).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from c2rag.errors import GitError
from c2rag.git import GitRepo
from c2rag.types import Citation

__all__ = ["CitationStatus", "OpenedCitation", "open_citation"]

logger = logging.getLogger(__name__)

CitationStatus = Literal["unchanged", "moved", "changed", "deleted"]


@dataclass(frozen=True, slots=True)
class OpenedCitation:
    """The cited lines now, compared with the cited commit.

    Attributes:
        citation: The citation as given.
        path: Repository-relative path of the file.
        commit: Full sha of the cited commit.
        status: ``unchanged``: the file is byte-identical in the working tree.
            ``moved``: the file changed but the cited lines are intact, now at
            ``start_line``-``end_line``. ``changed``: the cited lines were edited;
            ``text`` is what is now at the cited range and ``cited_text`` the old lines.
            ``deleted``: the file is gone from the working tree; ``text`` is the cited text.
        start_line: First line of ``text`` in the current file (1-based, inclusive).
        end_line: Last line of ``text`` in the current file.
        text: The current lines (with ``context_lines`` around them).
        cited_text: The lines at the cited commit, when they differ from ``text``'s core.
    """

    citation: str
    path: str
    commit: str
    status: CitationStatus
    start_line: int
    end_line: int
    text: str
    cited_text: str | None = None

    @property
    def changed_since(self) -> bool:
        """Whether the file differs from the cited commit."""
        return self.status != "unchanged"


def _file_at(repo: GitRepo, commit: str, path: str) -> bytes:
    entries, skipped = repo.list_files(commit)
    for entry in entries:
        if entry.path == path:
            return repo.read(entry)
    why = next((f" (skipped: {s.reason})" for s in skipped if s.path == path), "")
    msg = f"{path!r} is not an indexable file of commit {commit[:12]}{why}"
    raise GitError(msg)


def _lines(data: bytes) -> list[str]:
    return data.decode("utf-8", "replace").splitlines()


def _find(needle: list[str], haystack: list[str], near: int) -> int | None:
    """0-based start of ``needle`` in ``haystack``; the match closest to ``near`` if several."""
    if not needle:
        return None
    starts = [
        i
        for i in range(len(haystack) - len(needle) + 1)
        if haystack[i] == needle[0] and haystack[i : i + len(needle)] == needle
    ]
    return min(starts, key=lambda i: abs(i - near)) if starts else None


def open_citation(
    repo: GitRepo, citation: str | Citation, *, context_lines: int = 0
) -> OpenedCitation:
    """Resolve ``path:start-end@sha`` against the working tree of ``repo``.

    Args:
        repo: The repository the citation points into.
        citation: A :class:`~c2rag.types.Citation` or its string form.
        context_lines: Lines to add before and after the cited range.

    Raises:
        ValueError: ``citation`` is not ``path:start-end@sha`` or ``context_lines < 0``.
        GitError: The commit is not in this repository, or the path is not in it.

    Example:
        >>> repo = GitRepo(".")  # doctest: +SKIP
        >>> opened = open_citation(repo, "c2rag/types.py:80-95@3f2a9c1d0b7e")  # doctest: +SKIP
        >>> opened.status, opened.start_line, opened.end_line  # doctest: +SKIP
        ('moved', 84, 99)
    """
    if context_lines < 0:
        msg = f"context_lines must be >= 0, got {context_lines}"
        raise ValueError(msg)
    cited = citation if isinstance(citation, Citation) else Citation.parse(citation)
    commit = repo.resolve(cited.commit)
    old_data = _file_at(repo, commit, cited.path)
    old = _lines(old_data)
    if cited.end_line > len(old):
        msg = (
            f"{cited}: the file has {len(old)} lines at {commit[:12]}, "
            f"so lines {cited.start_line}-{cited.end_line} do not exist"
        )
        raise ValueError(msg)
    cited_lines = old[cited.start_line - 1 : cited.end_line]

    current_path = repo.root / cited.path
    if not current_path.is_file():
        return OpenedCitation(
            str(cited),
            cited.path,
            commit,
            "deleted",
            cited.start_line,
            cited.end_line,
            "\n".join(cited_lines),
        )
    new_data = current_path.read_bytes()
    new = _lines(new_data)
    if new_data == old_data:
        status: CitationStatus = "unchanged"
        start = cited.start_line - 1
    else:
        found = _find(cited_lines, new, cited.start_line - 1)
        status = "moved" if found is not None else "changed"
        start = found if found is not None else min(cited.start_line - 1, max(len(new) - 1, 0))
    end = min(start + len(cited_lines), len(new))
    lo, hi = max(start - context_lines, 0), min(end + context_lines, len(new))
    logger.debug("%s: %s, now lines %d-%d", cited, status, start + 1, end)
    return OpenedCitation(
        citation=str(cited),
        path=cited.path,
        commit=commit,
        status=status,
        start_line=lo + 1,
        end_line=max(hi, lo + 1),
        text="\n".join(new[lo:hi]),
        cited_text="\n".join(cited_lines) if status == "changed" else None,
    )
