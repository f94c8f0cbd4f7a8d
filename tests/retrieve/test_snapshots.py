"""One commit per answer, and one snapshot per search: branches, tags and commits indexed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from c2rag.index import CodeIndex
from c2rag.retrieve import CodeRetriever
from c2rag.store import IndexStore, StoreLocation

FILES = {
    "a.py": "def alpha(x):\n    return x + 1\n",
    "b.py": "def beta(y):\n    return y * 2\n",
}


def _stored_commit(root: Path, store_dir: Path, path: str) -> set[str]:
    location = StoreLocation.for_repo(root, store_dir=store_dir)
    with IndexStore.open(location) as store:
        got = store.collection.get(where={"path": path}, include=["metadatas"])
        return {m["commit"] for m in got["metadatas"]}


def test_every_citation_names_the_indexed_commit(
    make_repo: Any, tiny_encoder: Any, tmp_path: Path
) -> None:
    repo = make_repo(files=FILES)
    first = repo.head
    store_dir = tmp_path / "store"
    index = CodeIndex(repo.root, encoder=tiny_encoder, store_dir=store_dir)
    index.update()
    repo.write("b.py", "def beta(y):\n    return y * 3\n")
    second = repo.commit("beta triples")
    index.update()
    with CodeRetriever.from_path(repo.root, store_dir=store_dir) as retriever:
        hits = retriever.search("alpha beta", k=5)
    assert {h.chunk.path for h in hits} == {"a.py", "b.py"}
    assert {h.commit for h in hits} == {second}  # a.py is unchanged, and cited at HEAD too
    assert {str(h.citation).rsplit("@", 1)[1] for h in hits} == {second[:12]}
    # ... without rewriting a.py's record: it keeps the commit it was written at.
    assert _stored_commit(repo.root, store_dir, "a.py") == {first}


def test_a_tag_is_a_snapshot_and_search_never_mixes(
    make_repo: Any, tiny_encoder: Any, tmp_path: Path
) -> None:
    repo = make_repo(files=FILES)
    first = repo.head
    repo.git("tag", "v1")
    repo.write("b.py", "def gamma(z):\n    return z - 1\n")
    head = repo.commit("gamma replaces beta")
    store_dir = tmp_path / "store"
    index = CodeIndex(repo.root, encoder=tiny_encoder, store_dir=store_dir)
    index.update()  # main
    index.update("v1")  # the tag: a snapshot labelled v1
    index.update(first[:10])  # a bare commit: labelled as given
    assert set(index.status().branches) == {"main", "v1", first[:10]}

    with CodeRetriever.from_path(repo.root, store_dir=store_dir) as retriever:
        default = retriever.search("beta gamma", k=10)
        tagged = retriever.search("beta gamma", k=10, filters={"branch": "v1"})
    assert {h.commit for h in default} == {head}
    assert {h.chunk.name for h in default} >= {"b.gamma"} and "b.beta" not in {
        h.chunk.name for h in default
    }
    assert {h.commit for h in tagged} == {first}
    assert "b.beta" in {h.chunk.name for h in tagged}
    assert "b.gamma" not in {h.chunk.name for h in tagged}

    with CodeRetriever.from_path(repo.root, store_dir=store_dir, branch="v1") as on_tag:
        assert {h.commit for h in on_tag.search("beta", k=10)} == {first}

    # Checked out on a branch that is not indexed: the caller must say which snapshot.
    repo.branch("feature")
    with (
        CodeRetriever.from_path(repo.root, store_dir=store_dir) as retriever,
        pytest.raises(ValueError, match=r"several snapshots .*main.*v1.*'feature'"),
    ):
        retriever.search("beta", k=3)


def test_scope_names_the_snapshot_searched_and_what_empties_it(
    make_repo: Any, tiny_encoder: Any, tmp_path: Path
) -> None:
    repo = make_repo(files=FILES)
    repo.git("tag", "v1")
    repo.write("b.py", "def gamma(z):\n    return z - 1\n")
    repo.commit("gamma replaces beta")
    store_dir = tmp_path / "store"
    index = CodeIndex(repo.root, encoder=tiny_encoder, store_dir=store_dir)
    index.update()
    with CodeRetriever.from_path(repo.root, store_dir=store_dir) as retriever:
        alone = retriever.scope()  # one snapshot: every record belongs to it
        assert alone.filters.branch is None and alone.compiled.predicate is None
        index.update("v1")
        retriever.follow_index()
        scope = retriever.scope({"paths": ["b.py"]})
        assert scope.filters.branch == "main" and scope.empty_note is None
        assert scope.compiled.predicate is not None
        assert len(scope.compiled.allowed or ()) == 1  # gamma at main, not beta at v1
        empty = retriever.scope({"paths": ["nowhere/*.py"]})
        assert empty.compiled.matches_nothing and "nowhere/*.py" in (empty.empty_note or "")
