from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from c2rag.errors import IndexNotFoundError, StoreConnectionError
from c2rag.store import IndexStore, StoreLocation
from c2rag.store.chroma import ChromaWriter, get_all
from c2rag.store.manifest import BranchState, Manifest
from tests.fixtures.chroma import ChromaServer


def _location(tmp_path: Path, server: ChromaServer | None = None) -> StoreLocation:
    if server is None:
        return StoreLocation.for_repo(tmp_path / "repo", store_dir=tmp_path / "store")
    return StoreLocation.for_repo(
        tmp_path / "repo", store_dir=tmp_path / "store", host=server.host, port=server.port
    )


def _exercise(location: StoreLocation) -> None:
    with pytest.raises(IndexNotFoundError, match=r"build one with `c2rag index .*--store"):
        IndexStore.open(location)
    store = IndexStore.open(location, create=True)
    assert store.manifest is None
    # an unfinished first build is still "not found" for readers
    manifest = Manifest(fingerprint="fp", dim=3, model_name="m", chunker_version="c")
    store.write_manifest(manifest.with_pending("main", "a" * 40))
    with pytest.raises(IndexNotFoundError, match="never finished"):
        IndexStore.open(location)

    writer = ChromaWriter(store.collection, store.client, max_batch=3)
    ids = [f"id{i}" for i in range(10)]
    vectors = np.eye(10, 3, dtype=np.float32) + 0.1
    writer.upsert(
        ids, vectors, [f"doc {i}" for i in ids], [{"i": i, "branch:main": True} for i in range(10)]
    )
    assert writer.calls == 4  # 3 + 3 + 3 + 1
    writer.update_metadata(ids[:4], [{"branch:main": None, "branch:dev": True}] * 4)
    writer.delete(ids[8:])
    rows = list(get_all(store.collection, where={"branch:main": True}, page=2))
    assert sorted(r[0] for r in rows) == ids[4:8]
    assert {r[0] for r in get_all(store.collection, where={"branch:dev": True})} == set(ids[:4])

    done = store.manifest.with_branch("main", BranchState("a" * 40))  # type: ignore[union-attr]
    store.write_manifest(done)
    reopened = IndexStore.open(location)
    assert reopened.manifest == done
    assert reopened.collection.count() == 8
    assert reopened.collection.configuration["hnsw"]["space"] == "cosine"

    store.reset()
    assert store.collection.count() == 0
    assert store.manifest is None


def test_embedded_store(tmp_path: Path) -> None:
    _exercise(_location(tmp_path))


def test_a_store_deleted_while_this_process_holds_it_is_created_again(tmp_path: Path) -> None:
    import shutil

    location = _location(tmp_path)
    store = IndexStore.open(location, create=True)
    store.write_manifest(Manifest(fingerprint="fp", dim=3, model_name="m", chunker_version="c"))
    shutil.rmtree(tmp_path / "store")  # a user resets the index while a server keeps running
    again = IndexStore.open(location, create=True)
    writer = ChromaWriter(again.collection, again.client)
    writer.upsert(["a"], np.ones((1, 3), dtype=np.float32), ["doc"], [{"branch:main": True}])
    assert again.collection.count() == 1
    assert again.manifest is None


@pytest.mark.server
def test_server_store(tmp_path: Path, chroma_server: ChromaServer) -> None:
    _exercise(_location(tmp_path, chroma_server))


def test_unreachable_server_names_host_and_port(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    location = StoreLocation.for_repo(
        tmp_path, store_dir=tmp_path / "s", host="127.0.0.1", port=port
    )
    with pytest.raises(StoreConnectionError, match=f"127.0.0.1:{port}"):
        IndexStore.open(location, create=True)
