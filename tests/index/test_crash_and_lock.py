"""A killed indexer loses no paid-for work; a second writer is refused, nothing is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from c2rag.errors import IndexLockedError
from c2rag.index import CodeIndex
from tests.index.conftest import PROJECT, content_hashes, snapshot

# Runs one update in a child process: the real tiny encoder, wrapped to be interrupted.
_CHILD = """
import json, os, signal, sys
from c2rag.encode.engine import Encoder
from c2rag.index import CodeIndex
from c2rag.store.chroma import ChromaWriter
from tests.index.embedders import CountingEmbedder, GatedEmbedder, KillingEmbedder
from pathlib import Path

args = json.loads(sys.argv[1])
inner = Encoder(args["model"], device="cpu", dtype="fp32")
if "kill_on_embed_call" in args:
    embedder = KillingEmbedder(inner, kill_on_call=args["kill_on_embed_call"])
elif "gate" in args:
    embedder = GatedEmbedder(inner, started=Path(args["gate"][0]), go=Path(args["gate"][1]))
else:
    embedder = CountingEmbedder(inner)
if "kill_after_upserts" in args:
    original = ChromaWriter.upsert
    done = []

    def upsert(self, *a, **k):
        original(self, *a, **k)
        done.append(1)
        if len(done) >= args["kill_after_upserts"]:
            os.kill(os.getpid(), signal.SIGKILL)

    ChromaWriter.upsert = upsert
index = CodeIndex(args["repo"], encoder=embedder, **args["options"])
report = index.update()
print(json.dumps({"embedded": report.texts_embedded}))
"""


def _child(
    root: Path, model: Path, options: dict[str, Any], *, wait: bool = True, **args: Any
) -> subprocess.Popen[str]:
    payload = {"repo": str(root), "model": str(model), "options": options, **args}
    rootdir = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(rootdir)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, json.dumps(payload)],
        cwd=rootdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if wait:
        proc.wait(timeout=300)
    return proc


def test_killed_while_embedding_then_rerun_reuses_cached_vectors(
    make_repo: Any, counting: Any, tiny_c2llm_dir: Path, tmp_path: Path, fresh_index: Any
) -> None:
    repo = make_repo(files=PROJECT)
    options = {"store_dir": str(tmp_path / "store"), "embed_batch_size": 3}
    proc = _child(repo.root, tiny_c2llm_dir, options, kill_on_embed_call=3)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""

    index = CodeIndex(repo.root, encoder=counting, store_dir=tmp_path / "store")
    report = index.update()
    assert report.notes == ["the previous update of main was interrupted; repairing it"]
    fresh = fresh_index(repo.root)
    assert report.cache_hits == 6  # two batches of three finished before the kill
    assert len(counting.texts) == report.texts_embedded == len(content_hashes(fresh)) - 6
    with index.open_store() as store:
        assert snapshot(store) == fresh
        assert store.manifest is not None
        assert store.manifest.pending == {}
        assert set(store.lexical.ids()) == set(fresh)


def test_killed_while_writing_an_update_then_rerun_on_a_newer_commit(
    make_repo: Any, counting: Any, tiny_c2llm_dir: Path, tmp_path: Path, fresh_index: Any
) -> None:
    repo = make_repo(files=PROJECT)
    store_dir = tmp_path / "store"
    index = CodeIndex(repo.root, encoder=counting, store_dir=store_dir)
    first = index.update()
    original_maths = repo.read("pkg/maths.py")
    repo.write("pkg/maths.py", original_maths.replace(b"a + b", b"b + a"))
    repo.write(
        "pkg/geometry.py",
        "def area(w, h):\n    return w * h\n\n\ndef perimeter(w, h):\n    return 2 * (w + h)\n",
    )
    repo.remove("pkg/strings.py")
    repo.commit("c2")

    options = {"store_dir": str(store_dir), "write_batch_size": 2}
    proc = _child(repo.root, tiny_c2llm_dir, options, kill_after_upserts=1)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    with index.open_store() as store:
        assert store.manifest is not None
        assert store.manifest.branches["main"].commit == first.commit  # old state still named
        assert set(store.manifest.pending) == {"main"}

    # the user moves on before rerunning: the maths edit is reverted in a newer commit
    repo.write("pkg/maths.py", original_maths)
    repo.commit("c3")
    counting.reset()
    report = index.update()
    assert report.mode == "reconcile"
    assert counting.texts == []  # every text was embedded before or by the killed run
    with index.open_store() as store:
        assert snapshot(store) == fresh_index(repo.root)
        assert store.manifest is not None
        assert store.manifest.pending == {}
        assert store.manifest.branches["main"].commit == repo.head
        assert set(store.lexical.ids()) == set(snapshot(store))


def test_second_writer_gets_lock_error_and_nothing_is_lost(
    make_repo: Any, counting: Any, tiny_c2llm_dir: Path, tmp_path: Path, fresh_index: Any
) -> None:
    repo = make_repo(files=PROJECT)
    started, go = tmp_path / "started", tmp_path / "go"
    options = {"store_dir": str(tmp_path / "store")}
    proc = _child(repo.root, tiny_c2llm_dir, options, wait=False, gate=[str(started), str(go)])
    try:
        deadline = time.monotonic() + 120
        while not started.exists():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the first indexer never started embedding"
            time.sleep(0.05)
        second = CodeIndex(repo.root, encoder=counting, store_dir=tmp_path / "store")
        with pytest.raises(IndexLockedError, match=f"locked by pid {proc.pid}"):
            second.update()
        assert counting.texts == []
    finally:
        go.touch()
        out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1])["embedded"] > 0
    report = second.update()
    assert report.mode == "up_to_date"
    with second.open_store() as store:
        assert snapshot(store) == fresh_index(repo.root)
