"""Changes between two commits, with renames, as the indexer needs them.

The raw diff comes from ``git diff-tree -r -M --raw -z OLD NEW`` (plumbing: stable
output, no user config such as external diff drivers). Each side of a change is then
judged on its own: a side is *indexable* when it is a regular file with a UTF-8 path that
the ignore rules of that side's commit keep. A change keeps its git status only when both
sides are indexable; otherwise it becomes what the index sees. A file moved into an ignored
directory is a ``"D"``; one moved out of it is an ``"A"``; one replaced by a symlink is a
``"D"``.

Renames are an optimisation, never needed for correctness: when git gives up on rename
detection (``diff.renameLimit``), the same move arrives as ``"D"`` + ``"A"``, and a
content-addressed embedding cache still embeds nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from c2rag.errors import GitError
from c2rag.git.ignore import IgnoreRules
from c2rag.git.process import decode_path, display_path
from c2rag.git.records import Change

__all__ = ["REGULAR_MODES", "RawChange", "classify", "parse_raw_diff"]

REGULAR_MODES = frozenset({0o100644, 0o100755, 0o100664})
"""Git modes of regular files (``100664`` appears in very old repositories)."""


@dataclass(frozen=True, slots=True)
class RawChange:
    """One record of ``git diff --raw -z``, paths still as bytes."""

    status: str
    """One letter: ``A``, ``C``, ``D``, ``M``, ``R``, ``T``, ``U`` or ``X``."""
    score: int | None
    old_mode: int
    new_mode: int
    old_blob: str | None
    new_blob: str | None
    old_path: bytes
    new_path: bytes


def _blob(sha: bytes) -> str | None:
    return None if sha.strip(b"0") == b"" else sha.decode("ascii")


def parse_raw_diff(data: bytes) -> list[RawChange]:
    """Parse ``--raw -z`` output: ``:MODE MODE SHA SHA STATUS\\0PATH\\0[PATH\\0]``.

    Raises:
        GitError: the output does not have that shape.
    """
    fields = data.split(b"\0")
    if fields and fields[-1] == b"":
        fields.pop()
    out: list[RawChange] = []
    i = 0
    while i < len(fields):
        meta = fields[i]
        parts = meta[1:].split(b" ") if meta.startswith(b":") else []
        if len(parts) != 5 or not parts[4]:
            msg = f"unexpected line in git diff --raw output: {display_path(meta)!r}"
            raise GitError(msg)
        old_mode, new_mode, old_sha, new_sha, status = parts
        letter = chr(status[0])
        score = int(status[1:]) if len(status) > 1 else None
        n_paths = 2 if letter in "RC" else 1
        paths = fields[i + 1 : i + 1 + n_paths]
        if len(paths) != n_paths:
            msg = f"git diff --raw output ends inside the record {display_path(meta)!r}"
            raise GitError(msg)
        out.append(
            RawChange(
                status=letter,
                score=score,
                old_mode=int(old_mode, 8),
                new_mode=int(new_mode, 8),
                old_blob=_blob(old_sha),
                new_blob=_blob(new_sha),
                old_path=paths[0],
                new_path=paths[-1],
            )
        )
        i += 1 + n_paths
    return out


def _indexable(mode: int, raw_path: bytes, rules: IgnoreRules) -> str | None:
    """The side's path if the index holds it, else ``None``."""
    if mode not in REGULAR_MODES:
        return None
    path = decode_path(raw_path)
    if path is None or rules.is_ignored(path):
        return None
    return path


def classify(
    raw: Iterable[RawChange], old_rules: IgnoreRules, new_rules: IgnoreRules
) -> list[Change]:
    """Turn raw git changes into index changes, applying each side's ignore rules."""
    changes: list[Change] = []
    for rc in raw:
        has_old = rc.status not in ("A", "C")  # a copy leaves its source in place
        has_new = rc.status != "D"
        old = _indexable(rc.old_mode, rc.old_path, old_rules) if has_old else None
        new = _indexable(rc.new_mode, rc.new_path, new_rules) if has_new else None
        if old is not None and new is not None:
            if rc.status == "R":
                changes.append(Change("R", new, old, rc.old_blob, rc.new_blob, rc.score))
            elif rc.old_blob != rc.new_blob:  # M or T between two regular files
                changes.append(Change("M", new, None, rc.old_blob, rc.new_blob))
            # same blob, only the mode changed (chmod +x): nothing to re-index
        elif old is not None:
            changes.append(Change("D", old, None, rc.old_blob, None))
        elif new is not None:
            changes.append(Change("A", new, None, None, rc.new_blob))
    return changes
