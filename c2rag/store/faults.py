"""Failures of the storage underneath an index, as c2rag's own errors.

SQLite, Chroma and the OS report a full disk, a read-only directory or a Chroma server that
went away in many shapes (``sqlite3.OperationalError``, Chroma's ``InternalError`` with a
SQLite code, ``OSError`` with ``ENOSPC``/``EROFS``, ``httpx.ConnectError``). :func:`translate`
recognises them anywhere in an exception's cause chain and says what happened, where, and
what to do; :func:`store_faults` applies it around a block so that the Python API raises
:class:`~c2rag.errors.C2RAGError` subclasses with the original exception chained.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from c2rag.errors import (
    C2RAGError,
    StoreConnectionError,
    StoreFullError,
    StoreReadOnlyError,
)

if TYPE_CHECKING:
    from c2rag.store.location import StoreLocation

__all__ = ["store_faults", "translate"]

_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_READONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}
# SQLite result codes as Chroma's Rust layer prints them: SQLITE_FULL, SQLITE_READONLY
_FULL_TEXT = ("disk is full", "(code: 13)", "no space left")
_READONLY_TEXT = ("readonly database", "read-only file system", "(code: 8)")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _in_store(err: OSError, location: StoreLocation | None) -> bool:
    """Whether ``err`` is about a file of the store (a permission error on a model file is
    not the store being read-only)."""
    if location is None or not err.filename:
        return True
    name = str(err.filename)
    return name.startswith(str(location.data_dir))


def _kind(exc: BaseException, location: StoreLocation | None) -> str | None:
    for err in _chain(exc):
        if type(err).__module__.split(".")[0] == "httpx":
            return "gone"
        if isinstance(err, OSError) and err.errno in _FULL_ERRNOS:
            return "full"
        if isinstance(err, OSError) and err.errno in _READONLY_ERRNOS:
            if _in_store(err, location):
                return "readonly"
            continue
        text = str(err).lower()
        if any(t in text for t in _FULL_TEXT):
            return "full"
        if any(t in text for t in _READONLY_TEXT):
            return "readonly"
    return None


def translate(exc: BaseException, location: StoreLocation | None, action: str) -> C2RAGError | None:
    """The c2rag error for a storage failure, or ``None`` when ``exc`` is not one.

    Args:
        exc: What was raised.
        location: The index being read or written (``None`` when unknown).
        action: What was being done, for the message (``"write the index"``).
    """
    kind = _kind(exc, location)
    if kind is None:
        return None
    where = location.describe() if location is not None else "the index"
    if kind == "full":
        return StoreFullError(
            f"cannot {action}: no space left on the device ({where}); free some space or "
            "point --store at another disk, then run the command again (what is stored is "
            "kept: the next `c2rag index` finishes an interrupted update)"
        )
    if kind == "readonly":
        return StoreReadOnlyError(
            f"cannot {action}: the store is read-only ({where}); index into a writable "
            "--store (status, search and mcp only read and work on a read-only store)"
        )
    server = f"{location.host}:{location.port}" if location and location.is_server else where
    return StoreConnectionError(
        f"lost the Chroma server while trying to {action} ({server}: "
        f"{type(exc).__name__}: {exc}); start it again and rerun the command (the next "
        "`c2rag index` repairs an interrupted update)"
    )


@contextmanager
def store_faults(location: StoreLocation | None, action: str) -> Iterator[None]:
    """Re-raise storage failures inside the block as c2rag errors (cause chained)."""
    try:
        yield
    except C2RAGError:
        raise
    except Exception as exc:
        error = translate(exc, location, action)
        if error is None:
            raise
        raise error from exc
