"""Single-writer lock of an index: one process writes a store at a time.

The lock is an OS advisory lock (``flock`` on POSIX, ``msvcrt.locking`` on Windows) on a file
beside the store, holding the owner's pid for the error message. The operating system drops
the lock when its owner dies, however it dies (SIGKILL included), so a lock left by a dead
process is simply taken over by the next writer.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from pathlib import Path

from c2rag.errors import IndexLockedError

__all__ = ["WriteLock"]

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class WriteLock:
    """Exclusive, non-blocking write lock on ``path``; use as a context manager.

    Args:
        path: The lock file (created if missing; never deleted, so all writers lock one inode).
        target: What is being locked, for the error message (e.g. the store directory).

    Raises:
        IndexLockedError: On :meth:`acquire` when another process holds the lock.
    """

    def __init__(self, path: str | Path, *, target: str) -> None:
        self.path = Path(path)
        self.target = target
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._fd is not None

    def owner(self) -> str:
        """The ``pid@host`` written by the current or last holder, or ``"unknown"``."""
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except OSError:
            return "unknown"
        return text or "unknown"

    def acquire(self) -> None:
        """Take the lock or raise :class:`IndexLockedError` at once (never waits)."""
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            os.close(fd)
            owner = self.owner()
            pid = owner.split("@", 1)[0]
            msg = (
                f"index at {self.target} is locked by pid {pid} ({owner}); another "
                f"`c2rag index` is writing it. Wait for it to finish, or stop that process."
            )
            raise IndexLockedError(msg)
        # Written after locking so that it always names the live holder.
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}@{socket.gethostname()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Release the lock if held."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            _unlock(fd)
        os.close(fd)

    def __enter__(self) -> WriteLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
