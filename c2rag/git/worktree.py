"""The working tree on top of a commit: modified, added, untracked and deleted files.

Only files git would let the user commit are considered: tracked files that differ from the
commit (``git diff --name-status BASE``, which also sees staged additions) and untracked
files that ``.gitignore`` does not exclude (``git ls-files --others --exclude-standard``).
Each kept file is read once to compute its blob sha exactly as ``git hash-object`` would
without filters (``blob <size>\\0`` + bytes), so the sha always matches what
:meth:`GitRepo.read` returns for the entry.
"""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from c2rag.git.ignore import IgnoreRules
from c2rag.git.process import decode_path, display_path, run_git
from c2rag.git.records import FileEntry, Skipped

__all__ = ["Overlay", "blob_sha", "scan_worktree"]


def blob_sha(data: bytes, *, object_format: str = "sha1") -> str:
    """Git's object id of a blob with these bytes (``git hash-object`` with no filters)."""
    h = hashlib.new(object_format)
    h.update(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


@dataclass
class Overlay:
    """What :func:`scan_worktree` found; see :meth:`GitRepo.worktree_overlay`."""

    entries: list[FileEntry] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _split_z(data: bytes) -> list[bytes]:
    return [f for f in data.split(b"\0") if f]


def scan_worktree(
    root: Path,
    base: str,
    *,
    base_rules: IgnoreRules,
    worktree_rules: IgnoreRules,
    base_files: Callable[[], Mapping[str, str]],
    object_format: str = "sha1",
) -> Overlay:
    """Compare the working tree at ``root`` with the tree of ``base`` (a commit or tree sha).

    Args:
        root: Top of the work tree.
        base: Commit sha, or the empty tree's sha for a repository without commits.
        base_rules: Ignore rules of ``base`` (decide which deleted paths were indexed).
        worktree_rules: Ignore rules from the working tree's ``.c2ragignore``.
        base_files: Returns ``{path: blob sha}`` of every regular file in ``base``, ignored
            or not; called only when the two rule sets differ, to find unchanged files
            whose ignore status flipped.
        object_format: ``"sha1"`` or ``"sha256"``, the repository's hash.
    """
    diff = run_git(
        root,
        [
            "diff",
            "--name-status",
            "-z",
            "--no-renames",
            "--no-ext-diff",
            "--ignore-submodules=all",
            base,
            "--",
        ],
    ).stdout
    fields = _split_z(diff)
    changed: list[bytes] = []
    in_base: set[bytes] = set()  # changed paths the base commit has (M, T), unlike A
    deleted_raw: list[bytes] = []
    for status, raw in zip(fields[::2], fields[1::2], strict=True):
        (deleted_raw if status == b"D" else changed).append(raw)
        if status in (b"M", b"T"):
            in_base.add(raw)
    untracked = _split_z(
        run_git(root, ["ls-files", "--others", "--exclude-standard", "-z", "--"]).stdout
    )

    out = Overlay()
    for raw in deleted_raw:
        path = decode_path(raw)
        if path is not None and not base_rules.is_ignored(path):
            out.deleted.append(path)
    seen: set[bytes] = set()
    for raw in [*changed, *untracked]:
        if raw in seen:
            continue
        seen.add(raw)
        was_indexed = raw in in_base and not base_rules.is_ignored(display_path(raw))
        _add_file(root, raw, worktree_rules, object_format, out, was_indexed=was_indexed)

    if base_rules != worktree_rules:
        _apply_rule_change(
            root,
            seen | set(deleted_raw),
            base_rules,
            worktree_rules,
            base_files,
            object_format,
            out,
        )
    return out


def _add_file(
    root: Path,
    raw: bytes,
    rules: IgnoreRules,
    object_format: str,
    out: Overlay,
    *,
    was_indexed: bool,
) -> None:
    """Hash one worktree file into ``out``. ``was_indexed``: the base commit's index holds
    this path, so it must be reported deleted if it is no longer an indexable file."""
    if raw.endswith(b"/"):  # an untracked nested repository
        out.skipped.append(Skipped(display_path(raw[:-1]), "submodule", "nested repository"))
        return
    path = decode_path(raw)
    if path is None:
        out.skipped.append(Skipped(display_path(raw), "non_utf8_path"))
        return
    skip = rules.check(path)
    if skip is not None:
        out.skipped.append(skip)
        if was_indexed:
            out.deleted.append(path)  # was in the commit, now excluded by the worktree's rules
        return
    full = root / path
    try:
        st = full.lstat()
        if stat.S_ISLNK(st.st_mode):
            reason = "symlink"
        elif stat.S_ISDIR(st.st_mode):
            reason = "submodule"
        elif not stat.S_ISREG(st.st_mode):
            reason = "unreadable"
        else:
            data = full.read_bytes()
            mode = 0o100755 if st.st_mode & stat.S_IXUSR else 0o100644
            sha = blob_sha(data, object_format=object_format)
            out.entries.append(FileEntry(path, sha, mode, len(data), "worktree"))
            return
    except FileNotFoundError:  # removed between git's listing and now
        if was_indexed:
            out.deleted.append(path)
        return
    except OSError as exc:
        out.skipped.append(Skipped(path, "unreadable", str(exc)))
        return
    out.skipped.append(Skipped(path, reason))
    if was_indexed:
        out.deleted.append(path)  # the commit's regular file is no longer one


def _apply_rule_change(
    root: Path,
    handled: set[bytes],
    base_rules: IgnoreRules,
    worktree_rules: IgnoreRules,
    base_files: Callable[[], Mapping[str, str]],
    object_format: str,
    out: Overlay,
) -> None:
    """Unchanged files whose ignore status differs between the two ``.c2ragignore``s."""
    for path in base_files():
        if path.encode("utf-8") in handled:
            continue
        was_ignored = base_rules.is_ignored(path)
        skip = worktree_rules.check(path)
        if skip is not None and not was_ignored:
            out.deleted.append(path)
            out.skipped.append(skip)
        elif skip is None and was_ignored:
            _add_file(
                root, path.encode("utf-8"), worktree_rules, object_format, out, was_indexed=False
            )
