from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from c2rag.errors import IndexLockedError
from c2rag.store.lock import WriteLock


def _hold_lock_in_child(path: Path) -> subprocess.Popen[str]:
    script = textwrap.dedent(
        f"""
        import sys, time
        from c2rag.store.lock import WriteLock
        lock = WriteLock({str(path)!r}, target="test store")
        lock.acquire()
        print("locked", flush=True)
        time.sleep(600)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_second_writer_is_refused_with_pid_then_takes_over_dead_lock(tmp_path: Path) -> None:
    path = tmp_path / "write.lock"
    child = _hold_lock_in_child(path)
    try:
        with pytest.raises(IndexLockedError, match=f"locked by pid {child.pid}"):
            WriteLock(path, target="test store").acquire()
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    # the dead holder's lock is taken over
    with WriteLock(path, target="test store") as lock:
        assert lock.held
        assert lock.owner().startswith(f"{os.getpid()}@")


def test_two_locks_in_one_process_conflict_and_release(tmp_path: Path) -> None:
    path = tmp_path / "write.lock"
    first = WriteLock(path, target="here")
    first.acquire()
    with pytest.raises(IndexLockedError, match="index at here is locked"):
        WriteLock(path, target="here").acquire()
    first.release()
    assert not first.held
    with WriteLock(path, target="here"):
        pass
