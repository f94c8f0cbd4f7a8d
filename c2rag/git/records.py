"""Plain records the git layer hands to the indexer: files, changes and skipped paths."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Change", "ChangeStatus", "FileEntry", "FileSource", "Skipped"]

FileSource = Literal["commit", "worktree"]
ChangeStatus = Literal["A", "M", "D", "R"]


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One regular file of a commit (or of the working tree, for the overlay).

    ``blob_sha`` is git's object id of the file's bytes (``git hash-object``), so two
    entries with the same ``blob_sha`` have the same content whatever their path or source.
    """

    path: str
    """Repository-relative POSIX path."""
    blob_sha: str
    mode: int
    """Git file mode as an integer: ``0o100644`` or ``0o100755``."""
    size: int
    """Size in bytes, known without reading the content."""
    source: FileSource = "commit"
    """``"commit"``: read from the object store; ``"worktree"``: read from the checkout."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """A path that is not indexed, and why.

    ``reason`` is a short stable code to group and count by: ``"submodule"``, ``"symlink"``,
    ``"secret"``, ``"vendored"``, ``"generated"``, ``"translation"``, ``"c2ragignore"``,
    ``"non_utf8_path"``, ``"unreadable"``. ``detail`` says which rule fired (e.g. the
    pattern ``"*.pem"``).
    """

    path: str
    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Change:
    """One file-level change between two commits, after ignore rules.

    ``"R"`` means ``old_path`` was renamed to ``path``; the content may also have changed:
    compare ``old_blob`` with ``new_blob`` (or read :attr:`content_changed`) to know whether
    the new file must be re-chunked or its stored chunks only re-labelled.
    """

    status: ChangeStatus
    path: str
    """The path after the change (for ``"D"``, the deleted path)."""
    old_path: str | None = None
    """The path before a rename; ``None`` otherwise."""
    old_blob: str | None = None
    """Blob sha before the change (``None`` for ``"A"``)."""
    new_blob: str | None = None
    """Blob sha after the change (``None`` for ``"D"``)."""
    similarity: int | None = None
    """Git's rename similarity score in percent (``100`` = identical), for ``"R"`` only."""

    @property
    def content_changed(self) -> bool:
        """Whether the file's bytes differ between the two sides (always true for A/D)."""
        return self.old_blob != self.new_blob
