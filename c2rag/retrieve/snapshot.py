"""Which indexed snapshot a search reads, and the one commit its citations name.

An index can hold several snapshots: one per branch, tag or commit indexed, each a label
(the branch name, or the ``--ref`` / ``--branch`` given to ``c2rag index``) → its indexed
commit in the manifest. Records are shared between snapshots by flag, and a record flagged
for a snapshot holds a chunk of the file exactly as it is at that snapshot's commit (records are
keyed by path and blob). So a search reads one snapshot, never a mix, and every citation names
that snapshot's commit, resolved when read: an update re-flags unchanged records, it never
rewrites them to move their commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from c2rag.store.records import branch_key

__all__ = ["cited_commit", "default_snapshot"]


def default_snapshot(indexed: Mapping[str, Any], repo: Any) -> str | None:
    """The snapshot a search reads when none is named.

    The checked-out branch (``HEAD`` when detached) when it is indexed; the only snapshot when
    there is one; ``None`` for an empty index.

    Raises:
        ValueError: Several snapshots and none for the checked-out branch: the caller must
            name one (the message lists them).
    """
    if not indexed:
        return None
    current = None
    if repo is not None:
        current = repo.current_branch() or "HEAD"
        if current in indexed:
            return current
    if len(indexed) == 1:
        return next(iter(indexed))
    names = ", ".join(sorted(indexed))
    where = f"the checked-out branch {current!r} is" if current else "no branch is checked out and"
    msg = (
        f"this index holds several snapshots ({names}) and {where} not one of them; name the "
        "one to search (branch=… / --branch)"
    )
    raise ValueError(msg)


def cited_commit(metadata: Mapping[str, Any], snapshot: str | None, commit: str | None) -> str:
    """The commit a record's citation names when read from ``snapshot`` indexed at ``commit``.

    The snapshot's commit for a committed record flagged for it (its lines are the same there);
    otherwise the commit stored with the record (working-tree overlay records, or a record read
    outside any snapshot).
    """
    stored = str(metadata.get("commit", ""))
    if snapshot is None or commit is None or metadata.get("source", "commit") != "commit":
        return stored
    return commit if metadata.get(branch_key(snapshot)) else stored
