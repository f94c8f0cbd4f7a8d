"""Exceptions raised by c2rag.

Every error is a :class:`C2RAGError`, so one ``except`` catches them all::

    C2RAGError
    ├── ModelLoadError            a model or tokenizer could not be loaded
    │   └── CheckpointMismatchError   weights whose keys or shapes do not fit the model
    ├── ChunkingError             a file could not be read as text at all
    ├── GitError                  a path is not a git repository, or a ref does not resolve
    │   └── UnsafePathError           a working-tree path is a symlink or leads outside the repo
    └── IndexError_               problems with a stored index
        ├── IndexNotFoundError        no index where one was expected
        ├── IndexLockedError          another process holds the single-writer lock
        ├── IndexMismatchError        the index was built with another model or dimension
        ├── StoreConnectionError      a Chroma server does not answer (or went away)
        ├── StoreFullError            no space left where the index is written
        └── StoreReadOnlyError        the index is on a read-only file system or directory

Messages say what was attempted, why it failed and what to do about it.
"""

from __future__ import annotations

__all__ = [
    "C2RAGError",
    "CheckpointMismatchError",
    "ChunkingError",
    "GitError",
    "IndexError_",
    "IndexLockedError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "ModelLoadError",
    "StoreConnectionError",
    "StoreFullError",
    "StoreReadOnlyError",
    "UnsafePathError",
]


class C2RAGError(Exception):
    """Base class of every error c2rag raises on purpose."""


class ModelLoadError(C2RAGError):
    """A checkpoint, config or tokenizer could not be found or loaded."""


class CheckpointMismatchError(ModelLoadError):
    """A checkpoint's tensors do not match the model built from its config."""


class ChunkingError(C2RAGError):
    """Raised only for misuse of the chunker API; bad file content never raises."""


class GitError(C2RAGError):
    """A path is not a git repository, or a revision does not resolve."""


class UnsafePathError(GitError):
    """A working-tree path (or a directory above it) is a symbolic link, or leads outside
    the repository; c2rag refuses to read it."""


class IndexError_(C2RAGError):  # trailing _ : the builtin IndexError stays usable
    """Base class of errors about a stored index."""


class IndexNotFoundError(IndexError_):
    """No index exists where one was expected."""


class IndexLockedError(IndexError_):
    """Another process holds the index's single-writer lock."""


class IndexMismatchError(IndexError_):
    """The index was built with a different model, pooling, prompt or dimension."""


class StoreConnectionError(IndexError_):
    """A Chroma server named by host and port could not be reached."""


class StoreFullError(IndexError_):
    """The disk (or quota) holding the index is full; nothing stored is lost."""


class StoreReadOnlyError(IndexError_):
    """The index cannot be written: its directory or file system is read-only."""
