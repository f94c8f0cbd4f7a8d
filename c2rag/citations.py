"""Open a citation again: the cited lines as they are now, and whether they changed.

An agent holds ``path:start-end@sha`` from an earlier answer and wants the code before it
edits or quotes it. Between the cited commit and now the file may be untouched, edited
elsewhere (the cited lines only moved), edited in those lines, or deleted. :func:`open_citation`
tells which, reading the cited version from git objects and the current one from the working
tree (what an agent would edit).

Every byte returned comes from inside the repository: the cited version is the commit's blob,
and the working-tree file is read only when neither it nor any directory above it (up to the
repository root) is a symbolic link, so a commit that swaps a file or a directory for a link
to ``/etc`` or ``/proc/self/environ`` cannot make the tool serve what the link points to.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from c2rag.errors import GitError, UnsafePathError
from c2rag.git import GitRepo
from c2rag.git.secrets import SecretScanner
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


def _refuse(root: Path, path: str, why: str, commit: str) -> UnsafePathError:
    msg = (
        f"refusing to read {path!r} from the working tree of {root}: {why}; only files inside "
        f"the repository are served. The cited version is in git: "
        f"`git show {commit[:12]}:{path}`"
    )
    return UnsafePathError(msg)


def _worktree_bytes(root: Path, path: str, commit: str) -> bytes | None:
    """The working-tree bytes of ``path``, ``None`` when it is gone.

    Raises:
        UnsafePathError: ``path`` or a directory above it is a symbolic link or something
            other than a regular file / directory, or it leads outside ``root``.
    """
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise _refuse(root, path, "the path is not a plain repository path", commit)
    current = root
    for i, part in enumerate(parts):
        current = current / part
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            return None
        except NotADirectoryError:  # a parent became a file: the cited file is gone
            return None
        last = i == len(parts) - 1
        if stat.S_ISLNK(st.st_mode):
            what = "it" if last else f"its parent directory {'/'.join(parts[: i + 1])!r}"
            raise _refuse(root, path, f"{what} is a symbolic link", commit)
        if not last and not stat.S_ISDIR(st.st_mode):
            return None
    if not stat.S_ISREG(st.st_mode):
        if stat.S_ISDIR(st.st_mode):
            return None  # the file became a directory: gone as a file
        raise _refuse(root, path, "it is not a regular file", commit)
    # O_NOFOLLOW closes the window between the checks above and the read (for the file
    # itself); the resolved path is checked too, for a parent swapped meanwhile.
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(current, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _refuse(root, path, f"it cannot be opened safely ({exc.strerror})", commit) from exc
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise _refuse(root, path, "it is not a regular file", commit)
        if not Path(os.path.realpath(current)).is_relative_to(root.resolve()):
            raise _refuse(root, path, "it resolves outside the repository", commit)
        return handle.read()


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
        ValueError: ``citation`` is not ``path:start-end@sha``, its range is impossible
            (``start < 1``, ``end < start`` or past the end of the file), or
            ``context_lines < 0``.
        GitError: The commit is not in this repository, or the path is not in it.
        UnsafePathError: The working-tree file or a directory above it is a symbolic link
            (or leads outside the repository).

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
    if cited.start_line < 1 or cited.end_line < cited.start_line:
        msg = (
            f"{cited}: impossible line range {cited.start_line}-{cited.end_line} "
            f"(lines start at 1 and the end cannot precede the start)"
        )
        raise ValueError(msg)
    commit = repo.resolve(cited.commit)
    # a file skipped for a secret is still in git: what is served is redacted
    scanner = SecretScanner(mode="redact")
    old_data = scanner.check(cited.path, _file_at(repo, commit, cited.path))[0] or b""
    old = _lines(old_data)
    if cited.end_line > len(old):
        msg = (
            f"{cited}: the file has {len(old)} lines at {commit[:12]}, "
            f"so lines {cited.start_line}-{cited.end_line} do not exist"
        )
        raise ValueError(msg)
    cited_lines = old[cited.start_line - 1 : cited.end_line]

    new_data = _worktree_bytes(repo.root, cited.path, commit)
    if new_data is None:
        return OpenedCitation(
            str(cited),
            cited.path,
            commit,
            "deleted",
            cited.start_line,
            cited.end_line,
            "\n".join(cited_lines),
        )
    new_data = scanner.check(cited.path, new_data)[0] or b""
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
