from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from c2rag.errors import IndexNotFoundError, StoreConnectionError
from c2rag.store import IndexStore, StoreLocation
from c2rag.store.chroma import SEARCH_EF, ChromaWriter, get_all
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
    assert reopened.collection.configuration["hnsw"]["ef_search"] == SEARCH_EF

    store.reset()
    assert store.collection.count() == 0
    assert store.manifest is None


def test_embedded_store(tmp_path: Path) -> None:
    _exercise(_location(tmp_path))


def _fill(store: IndexStore, prefix: str, n: int = 1100) -> None:
    """Write ``n`` records: past Chroma's sync threshold (1000), so its HNSW files exist."""
    ids = [f"{prefix}{i}" for i in range(n)]
    vectors = np.random.default_rng(len(prefix)).normal(size=(n, 4)).astype(np.float32)
    ChromaWriter(store.collection, store.client).upsert(
        ids, vectors, ids, [{"branch:main": True}] * n
    )


def test_rebuilds_leave_one_vector_index_on_disk(tmp_path: Path) -> None:
    # Chroma 1.x keeps a deleted collection's HNSW files (chroma-core/chroma#5259): without
    # clean-up every rebuild would leave a full copy of the previous vector index behind.
    location = _location(tmp_path)
    store = IndexStore.open(location, create=True)

    def vector_dirs() -> list[str]:
        return [p.name for p in location.chroma_dir.iterdir() if p.is_dir()]

    for build in range(3):
        _fill(store, f"b{build}-")
        assert len(vector_dirs()) == 1
        store.reset()
    ChromaWriter(store.collection, store.client).upsert(
        ["x"], np.ones((1, 4), dtype=np.float32), ["x"], [{"branch:main": True}]
    )
    assert store.collection.query(query_embeddings=[[1.0] * 4], n_results=1)["ids"] == [["x"]]
    assert len(vector_dirs()) <= 1


def test_the_writer_removes_vector_indexes_an_earlier_rebuild_left(tmp_path: Path) -> None:
    location = _location(tmp_path)
    store = IndexStore.open(location, create=True)
    _fill(store, "i")
    # what a rebuild by an earlier c2rag did: delete the collection, keep its files
    store.client.delete_collection(location.collection_name)
    (location.chroma_dir / "notes").mkdir()  # not Chroma's: left alone
    leaked = [p.name for p in location.chroma_dir.iterdir() if p.is_dir() and p.name != "notes"]
    assert len(leaked) == 1
    again = IndexStore.open(location, create=True)
    # the new collection has no directory of its own yet: nothing shows which are orphans
    assert leaked[0] in [p.name for p in location.chroma_dir.iterdir()]
    _fill(again, "i")
    IndexStore.open(location, create=True)  # the next update
    left = sorted(p.name for p in location.chroma_dir.iterdir() if p.is_dir())
    assert leaked[0] not in left and "notes" in left and len(left) == 2
    assert again.collection.count() == 1100


def test_the_writer_widens_the_search_of_an_older_index(tmp_path: Path) -> None:
    import chromadb

    from c2rag.store.chroma import chroma_settings

    location = _location(tmp_path)
    old = chromadb.PersistentClient(str(location.chroma_dir), settings=chroma_settings())
    old.create_collection(location.collection_name, configuration={"hnsw": {"space": "cosine"}})
    assert (
        old.get_collection(location.collection_name).configuration["hnsw"]["ef_search"] < SEARCH_EF
    )
    store = IndexStore.open(location, create=True)
    assert store.collection.configuration["hnsw"]["ef_search"] == SEARCH_EF


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
