"""``GitRepo``: a repository's files at a commit, its working tree, and diffs between commits.

Everything is read from git objects with the ``git`` executable (plumbing commands with
``-z`` output, so any path survives); nothing is ever checked out or written, and no lock
is taken, so indexing can run while the user works in the same repository.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from pathlib import Path

from c2rag.errors import GitError
from c2rag.git.diff import REGULAR_MODES, classify, parse_raw_diff
from c2rag.git.ignore import C2RAGIGNORE, IgnoreRules
from c2rag.git.process import CatFileBatch, Closing, decode_path, display_path, run_git
from c2rag.git.records import Change, FileEntry, Skipped
from c2rag.git.worktree import scan_worktree

__all__ = ["GitRepo"]

_SUBMODULE_MODE = 0o160000
_SYMLINK_MODE = 0o120000
_TREE_CACHE_SIZE = 4  # commits whose listing is kept: old + new of a diff, plus a spare

# (indexable files, skipped, {path: blob sha} of every regular file, ignored ones included)
_Listing = tuple[tuple[FileEntry, ...], tuple[Skipped, ...], dict[str, str]]


class GitRepo(Closing):
    """A git work tree, read through git objects.

    Args:
        path: Any directory inside the work tree; :attr:`root` is its top level.
        builtin_excludes: Apply the built-in secret and vendor excludes (default).

    Raises:
        GitError: ``path`` does not exist or is not inside a git work tree (bare
            repositories have no work tree to index).

    The object keeps a ``git cat-file --batch`` process for :meth:`read`; use it as a
    context manager or call :meth:`close` to end it.

    Example:
        >>> with GitRepo(".") as repo:  # doctest: +SKIP
        ...     files, skipped = repo.list_files("HEAD")
        ...     text = repo.read(files[0])
    """

    def __init__(self, path: str | os.PathLike[str], *, builtin_excludes: bool = True) -> None:
        start = Path(path).expanduser()
        if not start.is_dir():
            what = "does not exist" if not start.exists() else "is not a directory"
            msg = f"cannot open a git repository at {str(start)!r}: the path {what}"
            raise GitError(msg)
        proc = run_git(start, ["rev-parse", "--show-toplevel"], ok_codes=(0, 128))
        if proc.returncode != 0 or not proc.stdout.strip():
            reason = proc.stderr.decode("utf-8", "replace").strip() or "no work tree"
            msg = (
                f"{str(start)!r} is not inside a git work tree ({reason}); "
                "run c2rag on a clone or checkout (`git init` / `git clone` first)"
            )
            raise GitError(msg)
        self.root = Path(os.fsdecode(proc.stdout.rstrip(b"\n"))).resolve()
        self._builtin = builtin_excludes
        fmt = run_git(self.root, ["rev-parse", "--show-object-format"]).stdout.strip()
        self.object_format: str = fmt.decode("ascii") or "sha1"
        """The repository's hash: ``"sha1"`` or ``"sha256"``."""
        self._cat = CatFileBatch(self.root)
        self._listings: OrderedDict[str, _Listing] = OrderedDict()

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """End the background ``git cat-file`` process (the object stays usable)."""
        self._cat.close()

    def __repr__(self) -> str:
        return f"GitRepo({str(self.root)!r})"

    # -- refs ----------------------------------------------------------------------------------

    def _git(self, *args: str, ok_codes: tuple[int, ...] = (0,)) -> bytes:
        return run_git(self.root, args, ok_codes=ok_codes).stdout

    def has_commits(self) -> bool:
        """Whether ``HEAD`` points at a commit (false in a freshly ``git init``-ed repo)."""
        proc = run_git(
            self.root, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], ok_codes=(0, 1, 128)
        )
        return proc.returncode == 0

    def commit_exists(self, ref: str) -> bool:
        """Whether ``ref`` names a commit present in this clone (shallow clones and garbage
        collection can drop commits an index remembers)."""
        if not ref or ref.startswith("-"):
            return False
        proc = run_git(
            self.root,
            ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
            ok_codes=(0, 1, 128),
        )
        return proc.returncode == 0

    def resolve(self, ref: str = "HEAD") -> str:
        """Full sha of the commit ``ref`` names (branch, tag, sha prefix, ``HEAD~2`` …).

        Raises:
            GitError: the repository has no commits yet, or ``ref`` does not name a commit.
        """
        if not ref or ref.startswith("-"):
            msg = f"invalid revision {ref!r} in {self.root}: expected a branch, tag or commit"
            raise GitError(msg)
        proc = run_git(
            self.root,
            ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
            ok_codes=(0, 1, 128),
        )
        if proc.returncode == 0:
            return proc.stdout.decode("ascii").strip()
        if not self.has_commits():
            msg = (
                f"cannot resolve {ref!r}: the repository {self.root} has no commits yet; "
                "commit something first (the working tree alone can be read with "
                "worktree_overlay(None))"
            )
            raise GitError(msg)
        msg = (
            f"unknown revision {ref!r} in {self.root}: not a branch, tag or commit here "
            "(see `git branch -a`, `git tag` and `git log`; a shallow clone may lack it)"
        )
        raise GitError(msg)

    def current_branch(self) -> str | None:
        """Short name of the checked-out branch, or ``None`` when ``HEAD`` is detached."""
        proc = run_git(self.root, ["symbolic-ref", "--quiet", "--short", "HEAD"], ok_codes=(0, 1))
        name = proc.stdout.decode("utf-8", "replace").strip()
        return name if proc.returncode == 0 and name else None

    def remote_urls(self) -> list[str]:
        """URLs of the configured remotes (none for a repository that was never pushed)."""
        proc = run_git(self.root, ["config", "--get-regexp", r"^remote\..*\.url$"], ok_codes=(0, 1))
        lines = proc.stdout.decode("utf-8", "replace").splitlines()
        return [line.split(" ", 1)[1] for line in lines if " " in line]

    def is_shallow(self) -> bool:
        """Whether this is a shallow clone (history cut off; old commits may be missing)."""
        return self._git("rev-parse", "--is-shallow-repository").strip() == b"true"

    # -- rules ---------------------------------------------------------------------------------

    def ignore_rules(self, commit: str | None = None) -> IgnoreRules:
        """Built-in excludes plus the ``.c2ragignore`` of ``commit``; of the working tree
        when ``commit`` is ``None``."""
        if commit is None:
            try:
                text: bytes | None = (self.root / C2RAGIGNORE).read_bytes()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                text = None
        else:
            return self._rules_at(self.resolve(commit))
        return IgnoreRules(text, builtin=self._builtin)

    def _rules_at(self, sha: str) -> IgnoreRules:
        found = self._cat.get(f"{sha}:{C2RAGIGNORE}")
        text = found[1] if found is not None and found[0] == "blob" else None
        return IgnoreRules(text, builtin=self._builtin)

    # -- files of a commit ---------------------------------------------------------------------

    def _listing(self, sha: str) -> _Listing:
        cached = self._listings.get(sha)
        if cached is not None:
            self._listings.move_to_end(sha)
            return cached
        rules = self._rules_at(sha)
        out = self._git("ls-tree", "-r", "-l", "-z", "--full-tree", sha)
        files: list[FileEntry] = []
        skipped: list[Skipped] = []
        all_regular: dict[str, str] = {}
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode_s, _type, obj, size_s = meta.split()
            mode = int(mode_s, 8)
            path = decode_path(raw_path)
            if path is None:
                skipped.append(Skipped(display_path(raw_path), "non_utf8_path"))
            elif mode == _SUBMODULE_MODE:
                skipped.append(Skipped(path, "submodule", f"commit {obj.decode('ascii')}"))
            elif mode == _SYMLINK_MODE:
                skipped.append(Skipped(path, "symlink"))
            elif mode not in REGULAR_MODES:
                skipped.append(Skipped(path, "unreadable", f"mode {mode_s.decode('ascii')}"))
            else:
                all_regular[path] = obj.decode("ascii")
                skip = rules.check(path)
                if skip is not None:
                    skipped.append(skip)
                else:
                    files.append(FileEntry(path, obj.decode("ascii"), mode, int(size_s)))
        listing = (tuple(files), tuple(skipped), all_regular)
        self._listings[sha] = listing
        if len(self._listings) > _TREE_CACHE_SIZE:
            self._listings.popitem(last=False)
        return listing

    def list_files(self, commit: str = "HEAD") -> tuple[list[FileEntry], list[Skipped]]:
        """Every indexable file of ``commit`` and every path skipped, read from git objects.

        ``.gitignore`` holds by construction (ignored files are not in commits); the
        built-in excludes and the commit's own ``.c2ragignore`` are applied; submodules,
        symlinks and paths that are not UTF-8 are skipped with their reason. Files come in
        git's path order.

        Raises:
            GitError: ``commit`` does not resolve (or the repository has no commits).
        """
        files, skipped, _ = self._listing(self.resolve(commit))
        return list(files), list(skipped)

    # -- working tree --------------------------------------------------------------------------

    def worktree_overlay(
        self, commit: str | None = "HEAD"
    ) -> tuple[list[FileEntry], list[str], list[Skipped]]:
        """What the working tree changes on top of ``commit``.

        Returns:
            ``(entries, deleted, skipped)``: files that are modified, staged-new or
            untracked-but-not-ignored (``source="worktree"``, ``blob_sha`` = git's hash of
            the bytes on disk); paths of ``commit``'s indexable files that are gone (or are no
            longer regular files, or are now excluded by the working tree's
            ``.c2ragignore``); and what was skipped. Files unchanged since ``commit`` are not
            listed: take them from :meth:`list_files`.

        ``commit=None`` compares with an empty tree, which also works in a repository that
        has no commits yet. Overlay entries follow the working tree's ``.c2ragignore``.
        """
        if commit is None:
            base = _empty_tree(self.object_format)
            base_rules = IgnoreRules(None, builtin=self._builtin)

            def base_files() -> dict[str, str]:
                return {}
        else:
            base = self.resolve(commit)
            base_rules = self._rules_at(base)

            def base_files() -> dict[str, str]:
                return self._listing(base)[2]

        overlay = scan_worktree(
            self.root,
            base,
            base_rules=base_rules,
            worktree_rules=self.ignore_rules(None),
            base_files=base_files,
            object_format=self.object_format,
        )
        return overlay.entries, overlay.deleted, overlay.skipped

    # -- content -------------------------------------------------------------------------------

    def read(self, entry: FileEntry) -> bytes:
        """The bytes of ``entry``: from the object store, or from disk for overlay entries.

        Raises:
            GitError: the blob is missing, or a worktree file vanished since it was listed.
        """
        if entry.source == "worktree":
            try:
                return (self.root / entry.path).read_bytes()
            except OSError as exc:
                msg = (
                    f"cannot read {entry.path!r} from the working tree of {self.root}: {exc}; "
                    "it changed after the overlay was listed, list it again"
                )
                raise GitError(msg) from exc
        return self.read_blob(entry.blob_sha, path=entry.path)

    def read_blob(self, sha: str, *, path: str = "") -> bytes:
        """The bytes of the blob ``sha`` (``path`` only makes the error message clearer)."""
        found = self._cat.get(sha)
        if found is None or found[0] != "blob":
            what = f" ({path})" if path else ""
            msg = (
                f"blob {sha}{what} is not in the object store of {self.root}; "
                "the commit may have been garbage-collected or cut off by a shallow clone"
            )
            raise GitError(msg)
        return found[1]

    # -- history -------------------------------------------------------------------------------

    def diff(self, old: str, new: str = "HEAD") -> list[Change]:
        """Index-level changes from commit ``old`` to commit ``new``, renames included.

        Ignore rules of each side apply to that side (see :mod:`c2rag.git.diff`); when
        the two commits' ``.c2ragignore`` differ, unchanged files whose ignore status flipped
        are reported too (``"D"`` when newly excluded, ``"A"`` when newly included).

        Raises:
            GitError: either side does not resolve, or its objects are missing.
        """
        old_sha, new_sha = self.resolve(old), self.resolve(new)
        if old_sha == new_sha:
            return []
        out = self._git("diff-tree", "-r", "-M", "--raw", "-z", "--no-abbrev", old_sha, new_sha)
        raw = parse_raw_diff(out)
        old_rules, new_rules = self._rules_at(old_sha), self._rules_at(new_sha)
        changes = classify(raw, old_rules, new_rules)
        if old_rules != new_rules:
            touched = {r.old_path for r in raw} | {r.new_path for r in raw}
            changes.extend(self._rule_flips(new_sha, touched, old_rules, new_rules))
        return changes

    def _rule_flips(
        self,
        new_sha: str,
        touched: set[bytes],
        old_rules: IgnoreRules,
        new_rules: IgnoreRules,
    ) -> list[Change]:
        """Files the diff did not touch whose ignore status differs between the sides."""
        flips: list[Change] = []
        for path, sha in self._listing(new_sha)[2].items():
            if path.encode("utf-8") in touched:
                continue
            was, now = old_rules.is_ignored(path), new_rules.is_ignored(path)
            if was and not now:
                flips.append(Change("A", path, None, None, sha))
            elif now and not was:
                flips.append(Change("D", path, None, sha, None))
        return flips


def _empty_tree(object_format: str) -> str:
    """Git's well-known empty tree id (valid in every repository, even an empty one)."""
    return hashlib.new(object_format, b"tree 0\0").hexdigest()
