"""The repositories of one organisation-wide run: given on the command line or in a file.

Each becomes a :class:`RepoRef` with a short, unique name (the directory name, disambiguated
by its parent when two clones share one), used in summaries and repository-qualified
citations (``name:path:start-end@sha``). A path that is not a git work tree becomes a
:class:`RepoProblem` instead: named in the summary, nothing indexed for it.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from c2rag.errors import C2RAGError
from c2rag.git import GitRepo

__all__ = ["RepoProblem", "RepoRef", "read_repo_list", "resolve_repos"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class RepoRef:
    """A repository of the run."""

    name: str
    """Unique within the run; no ``:`` so that citations split cleanly."""
    root: Path


@dataclass(frozen=True)
class RepoProblem:
    """A listed path that cannot be indexed, and why."""

    given: str
    reason: str


def read_repo_list(path: str | os.PathLike[str]) -> list[str]:
    """Repository paths from a file: one a line; blank lines and ``#`` comments are skipped;
    relative paths are relative to the file's directory.

    Raises:
        ValueError: The file cannot be read (the message names it).
    """
    file = Path(path)
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        msg = f"cannot read the repository list {file}: {exc.strerror or exc}"
        raise ValueError(msg) from exc
    out = []
    for line in lines:
        entry = line.split("#", 1)[0].strip()
        if entry:
            candidate = Path(entry).expanduser()
            out.append(str(candidate if candidate.is_absolute() else file.parent / candidate))
    return out


def resolve_repos(
    paths: Iterable[str | os.PathLike[str]],
) -> tuple[list[RepoRef], list[RepoProblem]]:
    """Git roots of ``paths`` (duplicates dropped, order kept) and the paths that are not
    repositories."""
    roots: list[Path] = []
    problems: list[RepoProblem] = []
    for given in paths:
        if not Path(given).is_dir():
            problems.append(RepoProblem(str(given), "no such directory"))
            continue
        try:
            with GitRepo(given) as repo:
                root = repo.root.resolve()
        except C2RAGError as exc:
            problems.append(RepoProblem(str(given), f"not a git repository ({exc})"))
            continue
        if root not in roots:
            roots.append(root)
    return [RepoRef(name, root) for name, root in zip(_names(roots), roots, strict=True)], problems


def _names(roots: Sequence[Path]) -> list[str]:
    """Directory names, with the parent's name prefixed where two are the same."""
    base = [_safe(root.name) for root in roots]
    clash = Counter(base)
    names = [
        f"{_safe(root.parent.name)}.{name}" if clash[name] > 1 else name
        for name, root in zip(base, roots, strict=True)
    ]
    seen: Counter[str] = Counter()
    unique = []
    for name in names:
        seen[name] += 1
        unique.append(name if seen[name] == 1 else f"{name}.{seen[name]}")
    return unique


def _safe(name: str) -> str:
    return _UNSAFE.sub("-", name).strip("-") or "repo"
