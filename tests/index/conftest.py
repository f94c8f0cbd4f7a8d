"""Helpers for index tests: a small real project, store backends, snapshots of a store."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from c2rag.index import CodeIndex
from c2rag.store import IndexStore
from c2rag.store.chroma import get_all
from c2rag.store.records import BRANCH_PREFIX, branch_key
from c2rag.store.views import SignatureView
from tests.fixtures.chroma import ChromaServer
from tests.index.embedders import CountingEmbedder

PROJECT: dict[str | bytes, str | bytes] = {
    "pkg/__init__.py": '"""The package."""\n\nVERSION = "1.0"\n',
    "pkg/maths.py": (
        '"""Small maths helpers."""\n\n\n'
        "def add(a, b):\n"
        '    """Add two numbers."""\n'
        "    return a + b\n\n\n"
        "def mul(a, b):\n"
        "    return a * b\n\n\n"
        "class Vector:\n"
        "    def __init__(self, x, y):\n"
        "        self.x, self.y = x, y\n\n"
        "    def norm(self):\n"
        "        return (self.x ** 2 + self.y ** 2) ** 0.5\n"
    ),
    "pkg/strings.py": (
        "def shout(text):\n    return text.upper() + '!'\n\n\n"
        "def whisper(text):\n    return text.lower() + '...'\n"
    ),
    "pkg/io_utils.py": (
        "import json\n\n\n"
        "def load(path):\n    with open(path) as fh:\n        return json.load(fh)\n\n\n"
        "def dump(obj, path):\n    with open(path, 'w') as fh:\n        json.dump(obj, fh)\n"
    ),
    "web/app.js": (
        "function greet(name) {\n  return `hello ${name}`;\n}\n\n"
        "class Server {\n  start(port) {\n    return port + 1;\n  }\n}\n"
    ),
    "README.md": "# Demo\n\nA tiny project for index tests.\n",
}


@pytest.fixture
def counting(tiny_encoder: Any) -> CountingEmbedder:
    """A fresh counter over the real tiny C2LLM encoder."""
    return CountingEmbedder(tiny_encoder)


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.server)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """CodeIndex store options: embedded Chroma, or the session's `chroma run` server."""
    options: dict[str, Any] = {"store_dir": tmp_path / "store"}
    if request.param == "server":
        server: ChromaServer = request.getfixturevalue("chroma_server")
        options.update(chroma_host=server.host, chroma_port=server.port)
    return options


@pytest.fixture
def fresh_index(
    tmp_path: Path, tiny_encoder: Any
) -> Callable[[Path, str], dict[str, tuple[str, dict[str, Any]]]]:
    """``fresh_index(repo_root, ref)``: snapshot of a brand-new embedded index of ``ref``
    (own store, own cache), the reference an incremental index must equal."""
    counter = 0

    def build(
        root: Path, ref: str = "HEAD", **kwargs: Any
    ) -> dict[str, tuple[str, dict[str, Any]]]:
        nonlocal counter
        counter += 1
        index = CodeIndex(
            root, encoder=tiny_encoder, store_dir=tmp_path / f"fresh-{counter}", **kwargs
        )
        index.update(ref)
        with index.open_store() as store:
            return snapshot(store)

    return build


def snapshot(
    store: IndexStore, *, branch: str | None = None, keep_branches: bool = True
) -> dict[str, tuple[str, dict[str, Any]]]:
    """``id → (document, metadata)`` of a store (or of one branch's records), without the
    ``commit`` key (an incremental index keeps the commit each record was first written from,
    which is checked separately by :func:`assert_commits_hold_blobs`)."""
    where = {branch_key(branch): True} if branch else None
    out = {}
    for rid, doc, meta in get_all(
        store.collection, where=where, include=("documents", "metadatas")
    ):
        meta.pop("commit")
        if not keep_branches:
            meta = {k: v for k, v in meta.items() if not k.startswith(BRANCH_PREFIX)}
        out[rid] = (doc or "", meta)
    return out


def assert_commits_hold_blobs(store: IndexStore, root: Path) -> None:
    """Every record's ``path@commit`` is really the blob it was cut from (valid citations)."""
    pairs = {
        (m["commit"], m["path"], m["blob_sha"])
        for _, _, m in get_all(store.collection)
        if m["source"] == "commit"
    }
    for commit, path, blob in pairs:
        found = subprocess.run(
            ["git", "rev-parse", f"{commit}:{path}"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        assert found == blob, f"{path}@{commit[:12]} is {found}, record says {blob}"


def content_hashes(snap: dict[str, tuple[str, dict[str, Any]]]) -> set[str]:
    """Distinct embedded texts of a snapshot, by hash: chunk texts and signature views."""
    return {meta["content_hash"] for _, meta in snap.values()} | {
        meta["view_hash"] for _, meta in snap.values() if meta["view_hash"]
    }


def embedded_texts(snap: dict[str, tuple[str, dict[str, Any]]]) -> set[str]:
    """Distinct embedded texts of a snapshot: chunk texts and signature views."""
    view = SignatureView()
    return {doc for doc, _ in snap.values()} | {
        view.text(meta) for _, meta in snap.values() if meta["view_hash"]
    }
