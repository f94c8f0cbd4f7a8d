"""Storage faults end in one line ``Error: ...`` with exit status 1 (``-v``: the traceback),
the Python API raises c2rag's own errors with the cause chained, and a read-only store can
still be read (issue #10, items 6 and 7).

A full disk and a read-only store are real: a small tmpfs, and a read-only bind mount, both
made inside a user namespace (``unshare -Urm``) so that the test needs no privileges; where
the kernel refuses user namespaces these tests are skipped with that reason.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from c2rag.errors import StoreConnectionError
from c2rag.index import CodeIndex
from tests.fixtures.chroma import _chroma_binary, _free_port, _wait_for_heartbeat
from tests.index.conftest import PROJECT
from tests.index.embedders import GatedEmbedder

ROOT = Path(__file__).resolve().parents[2]


def _userns() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-Urm", "true"], capture_output=True, check=False)
    return probe.returncode == 0


needs_userns = pytest.mark.skipif(not _userns(), reason="user namespaces are not available")


def _c2rag(setup: str, *commands: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """Run ``setup`` (mounts) then each c2rag command inside one mount namespace; returns
    one result per command (stdout/stderr split by markers)."""
    python = sys.executable
    lines = [f"({setup}) || exit 99"]
    for i, args in enumerate(commands):
        quoted = " ".join(f"'{a}'" for a in args)
        lines.append(f"echo '@@{i}' >&2; echo '@@{i}'; {python} -m c2rag {quoted}; echo \"@@$?\"")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        ["unshare", "-Urm", "sh", "-c", "\n".join(lines)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    # stdout: "@@0\n<out>@@<rc>\n@@1\n..."; stderr: "@@0\n<err>@@1\n..."
    outs = proc.stdout.split("@@")[1:]
    errs = proc.stderr.split("@@")[1:]
    results = []
    for i, args in enumerate(commands):
        out = outs[2 * i].split("\n", 1)[1]
        rc = int(outs[2 * i + 1].strip())
        err = errs[i].split("\n", 1)[1]
        results.append(subprocess.CompletedProcess(args, rc, out, err))
    return results


def _assert_one_line_error(result: subprocess.CompletedProcess[str], needle: str) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ") and needle in last, result.stderr


@needs_userns
@pytest.mark.parametrize("size", ["64k", "160k"])
def test_disk_full_is_one_line(make_repo: Any, tiny_c2llm_dir: Path, tmp_path: Path, size):
    repo = make_repo(files=PROJECT)
    mount = tmp_path / "small"
    mount.mkdir()
    store = mount / "store"
    index = ["index", str(repo.root), "--store", str(store), "--model", str(tiny_c2llm_dir)]
    quiet, verbose = _c2rag(f"mount -t tmpfs -o size={size} tmpfs {mount}", index, ["-v", *index])
    _assert_one_line_error(quiet, "no space left on the device")
    assert "Traceback" in verbose.stderr and verbose.returncode == 1


@needs_userns
def test_read_only_store_reads_and_refuses_writes(
    make_repo: Any, tiny_c2llm_dir: Path, tiny_encoder: Any, tmp_path: Path
):
    repo = make_repo(files=PROJECT)
    store = tmp_path / "store"
    CodeIndex(repo.root, encoder=tiny_encoder, store_dir=store).update()
    repo.write("extra.py", "def added_later():\n    return 2\n")
    repo.commit("one more file")
    before = sorted(p.name for p in store.rglob("*"))
    opts = ["--store", str(store)]
    status, search, index = _c2rag(
        f"mount --bind {store} {store}; mount -o remount,ro,bind {store}",
        ["status", str(repo.root), *opts],
        ["search", "shout", str(repo.root), *opts],
        ["index", str(repo.root), *opts, "--model", str(tiny_c2llm_dir)],
    )
    assert status.returncode == 0 and "would check 1 changed files" in status.stdout, status
    assert search.returncode == 0 and "shout" in search.stdout, search
    _assert_one_line_error(index, "the store is read-only")
    assert sorted(p.name for p in store.rglob("*")) == before


@pytest.mark.server
def test_server_killed_mid_write_raises_store_connection_error(
    make_repo: Any, tiny_encoder: Any, tmp_path: Path
):
    port, host = _free_port(), "127.0.0.1"
    server = subprocess.Popen(
        [_chroma_binary(), "run", "--host", host, "--port", str(port), "--path", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_heartbeat(server, host, port)
        repo = make_repo(files=PROJECT)
        started, go = tmp_path / "started", tmp_path / "go"
        embedder = GatedEmbedder(tiny_encoder, started=started, go=go)
        index = CodeIndex(
            repo.root,
            encoder=embedder,
            store_dir=tmp_path / "s",
            chroma_host=host,
            chroma_port=port,
        )
        raised: list[BaseException] = []

        def run() -> None:
            try:
                index.update()
            except BaseException as exc:  # the assertion below looks at it
                raised.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.monotonic() + 120
        while not started.exists():
            assert thread.is_alive() and time.monotonic() < deadline
            time.sleep(0.05)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
        go.touch()
        thread.join(timeout=300)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert len(raised) == 1 and isinstance(raised[0], StoreConnectionError), raised
    assert "lost the Chroma server" in str(raised[0]) and f"{host}:{port}" in str(raised[0])
    assert type(raised[0].__cause__).__module__.split(".")[0] == "httpx"
