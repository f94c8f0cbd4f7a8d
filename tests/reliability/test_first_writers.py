"""N indexers started at the same instant on a store that does not exist yet: one builds it,
every other one gets IndexLockedError before touching Chroma (issue #10, item 3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from c2rag.index import CodeIndex
from tests.index.conftest import PROJECT, snapshot

# One child process loads the real tiny encoder once, then forks N writers (so the model is
# loaded once, not N times); each waits for the start file, then updates. The winner is held
# inside its first embedding call (GatedEmbedder) until the test lets it go, so the others
# meet a held lock whatever the scheduling. Each writer writes its outcome to its own file.
_CHILD = """
import json, os, sys, time
from pathlib import Path
from c2rag.encode.engine import Encoder
from c2rag.errors import C2RAGError
from c2rag.index import CodeIndex
from tests.index.embedders import GatedEmbedder

args = json.loads(sys.argv[1])
encoder = Encoder(args["model"], device="cpu", dtype="fp32")
out = Path(args["out"])
pids = []
for i in range(args["n"]):
    pid = os.fork()
    if pid:
        pids.append(pid)
        continue
    embedder = GatedEmbedder(encoder, started=out / f"started-{i}", go=out / "go")
    index = CodeIndex(args["repo"], encoder=embedder, **args["options"])
    (out / f"ready-{i}").touch()
    while not (out / "start").exists():
        time.sleep(0.001)
    try:
        index.update()
        result = {"error": None}
    except C2RAGError as exc:
        result = {"error": type(exc).__name__, "message": str(exc)}
    except BaseException as exc:
        result = {"error": "raw " + type(exc).__name__, "message": str(exc)}
    (out / f"result-{i}.json").write_text(json.dumps(result))
    os._exit(0)
for pid in pids:
    os.waitpid(pid, 0)
"""

N = 4


@pytest.mark.parametrize(
    "backend_kind", ["embedded", pytest.param("server", marks=pytest.mark.server)]
)
def test_same_instant_first_writers(
    backend_kind: str,
    make_repo: Any,
    tiny_c2llm_dir: Path,
    tiny_encoder: Any,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    repo = make_repo(files=PROJECT)
    options: dict[str, Any] = {"store_dir": str(tmp_path / "store")}
    if backend_kind == "server":
        server = request.getfixturevalue("chroma_server")
        options.update(chroma_host=server.host, chroma_port=server.port)
    out = tmp_path / "writers"
    out.mkdir()
    rootdir = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(rootdir), "OMP_NUM_THREADS": "1"}
    payload = {
        "repo": str(repo.root),
        "model": str(tiny_c2llm_dir),
        "options": options,
        "out": str(out),
        "n": N,
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, json.dumps(payload)],
        cwd=rootdir,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not all((out / f"ready-{i}").exists() for i in range(N)):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the writers never got ready"
            time.sleep(0.05)
        (out / "start").touch()
        # every writer but the winner must stop on its own, with the lock error
        while len(list(out.glob("result-*.json"))) < N - 1:
            assert time.monotonic() < deadline, "the losers did not stop"
            time.sleep(0.05)
    finally:
        (out / "go").touch()
        _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    results = [json.loads((out / f"result-{i}.json").read_text()) for i in range(N)]
    errors = sorted(str(r["error"]) for r in results)
    assert errors == ["IndexLockedError"] * (N - 1) + ["None"], results
    winner = next(i for i, r in enumerate(results) if r["error"] is None)
    assert (out / f"started-{winner}").exists()
    assert all("locked by pid" in r["message"] for r in results if r["error"])
    # the winner's index is whole
    check = CodeIndex(repo.root, encoder=tiny_encoder, **options)
    assert check.update().mode == "up_to_date"
    with check.open_store() as store:
        assert len(snapshot(store)) == store.collection.count() > 0
