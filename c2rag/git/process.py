"""Running ``git``: one-shot commands and a persistent ``git cat-file --batch`` reader.

Every failure becomes a :class:`~c2rag.errors.GitError` that names the command, the
repository and git's own message, so the caller never sees a bare ``CalledProcessError``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, TypeVar

from c2rag.errors import GitError

__all__ = ["CatFileBatch", "Closing", "decode_path", "display_path", "git_env", "run_git"]

logger = logging.getLogger(__name__)

# Variables that point git at a specific repository (``git rev-parse --local-env-vars``).
# A git hook exports them; they must not redirect commands aimed at ``root``.
_LOCAL_ENV_VARS = frozenset(
    {
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_DIR",
        "GIT_GRAFT_FILE",
        "GIT_IMPLICIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_INTERNAL_SUPER_PREFIX",
        "GIT_NO_REPLACE_OBJECTS",
        "GIT_OBJECT_DIRECTORY",
        "GIT_PREFIX",
        "GIT_REPLACE_REF_BASE",
        "GIT_SHALLOW_FILE",
        "GIT_WORK_TREE",
    }
)


def git_env() -> dict[str, str]:
    """The environment for git subprocesses.

    Repository-selecting variables are dropped; ``GIT_OPTIONAL_LOCKS=0`` keeps ``git diff``
    and ``git status`` from taking ``index.lock`` while the user works; prompts are off.
    """
    env = {k: v for k, v in os.environ.items() if k not in _LOCAL_ENV_VARS}
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"  # stable, English error messages
    return env


def _describe(args: Sequence[str]) -> str:
    return "git " + " ".join(args)


def run_git(
    cwd: Path,
    args: Sequence[str],
    *,
    ok_codes: Sequence[int] = (0,),
    stdin: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git ARGS`` in ``cwd`` and return the completed process (stdout as bytes).

    Raises:
        GitError: git is not installed, or exited with a code not in ``ok_codes``.
    """
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=git_env(),
            input=stdin,
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        why = "the directory does not exist" if not cwd.is_dir() else str(exc)
        if isinstance(exc, FileNotFoundError) and cwd.is_dir():
            why = "the git executable was not found on PATH"
        msg = f"cannot run {_describe(args)} in {cwd}: {why}"
        raise GitError(msg) from exc
    if proc.returncode not in ok_codes:
        stderr = proc.stderr.decode("utf-8", "replace").strip()
        msg = f"{_describe(args)} failed in {cwd} (exit {proc.returncode}): {stderr}"
        raise GitError(msg)
    return proc


_C = TypeVar("_C", bound="Closing")


class Closing:
    """Mixin: ``with obj:`` calls ``obj.close()`` on the way out."""

    def close(self) -> None:
        """Release what the object holds."""

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class CatFileBatch(Closing):
    """A long-lived ``git cat-file --batch`` process: one round trip per object.

    Starting one process and streaming object names through it is what makes reading
    thousands of blobs fast (a process per blob costs milliseconds each). The process
    starts on first use and restarts if it died; :meth:`close` (or the context manager)
    ends it, and so does garbage collection of this object. Thread-safe.
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        self._proc: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize | None = None
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._stop()
        try:
            proc = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self._root,
                env=git_env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as exc:
            msg = f"cannot run git cat-file --batch in {self._root}: {exc}"
            raise GitError(msg) from exc
        self._proc = proc
        self._finalizer = weakref.finalize(self, _stop_process, proc)
        return proc

    def _stop(self) -> None:
        if self._finalizer is not None:
            self._finalizer()  # runs _stop_process once, then detaches
        self._finalizer = None
        self._proc = None

    def get(self, name: str) -> tuple[str, bytes] | None:
        """Return ``(type, content)`` of the object ``name`` (a sha or ``rev:path``).

        Returns ``None`` when the object does not exist. Raises :class:`GitError` if the
        process dies or answers something unexpected.
        """
        if "\n" in name:
            msg = f"object name {name!r} contains a newline, which git cat-file --batch cannot read"
            raise GitError(msg)
        with self._lock:
            proc = self._start()
            stdin, stdout = proc.stdin, proc.stdout
            if stdin is None or stdout is None:  # pragma: no cover - Popen(PIPE) sets both
                msg = "git cat-file --batch started without pipes"
                raise GitError(msg)
            try:
                stdin.write(name.encode("utf-8", "surrogateescape") + b"\n")
                stdin.flush()
                return self._read_answer(name, stdout)
            except OSError as exc:
                self._stop()
                msg = f"git cat-file --batch in {self._root} stopped while reading {name!r}: {exc}"
                raise GitError(msg) from exc

    def _read_answer(self, name: str, stdout: IO[bytes]) -> tuple[str, bytes] | None:
        header = stdout.readline()
        parts = header.split()
        if len(parts) == 2 and parts[1] in (b"missing", b"ambiguous"):
            return None
        if len(parts) == 3 and parts[2].isdigit():
            size = int(parts[2])
            data = stdout.read(size)
            stdout.read(1)  # the newline that ends every object
            if len(data) == size:
                return parts[1].decode("ascii"), data
        self._stop()  # out of step with the protocol: never reuse this process
        msg = f"git cat-file --batch in {self._root} answered {header!r} for {name!r}"
        raise GitError(msg)

    def close(self) -> None:
        """End the process (idempotent; a later :meth:`get` starts a new one)."""
        with self._lock:
            self._stop()


def _stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Close stdin (cat-file exits at EOF), wait briefly, kill if it hangs; close pipes."""
    if proc.stdin is not None:
        with contextlib.suppress(OSError):
            proc.stdin.close()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        logger.warning("git cat-file --batch (pid %d) did not exit; killing it", proc.pid)
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def decode_path(raw: bytes) -> str | None:
    """A git path (raw bytes from ``-z`` output) as ``str``, or ``None`` if not UTF-8.

    Paths that are not UTF-8 cannot be stored as text metadata or cited reliably, so the
    layers above skip them (reason ``"non_utf8_path"``) instead of guessing an encoding.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def display_path(raw: bytes) -> str:
    """A printable form of any git path (undecodable bytes shown as ``\\xNN``)."""
    return raw.decode("utf-8", "backslashreplace")
