"""Incremental updates equal a fresh index and embed only new texts (embedded and server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from c2rag.index import CodeIndex
from c2rag.store.records import branch_key
from tests.index.conftest import (
    PROJECT,
    assert_commits_hold_blobs,
    content_hashes,
    embedded_texts,
    snapshot,
)


def _edit_one_function(repo: Any) -> None:
    text = repo.read("pkg/maths.py").decode()
    repo.write("pkg/maths.py", text.replace("return a * b", "return b * a  # commutes"))


def test_update_equals_fresh_index_and_embeds_only_new_texts(
    make_repo: Any, counting: Any, backend: dict[str, Any], fresh_index: Any
) -> None:
    repo = make_repo(files=PROJECT)
    index = CodeIndex(repo.root, encoder=counting, **backend)
    first = index.update()
    assert first.mode == "full"
    assert first.chunks_added > 0
    with index.open_store() as store:
        before = snapshot(store)
    assert first.texts_embedded == len(counting.texts) == len(content_hashes(before))

    _edit_one_function(repo)
    repo.rename("pkg/strings.py", "pkg/text/strings.py")
    repo.remove("pkg/io_utils.py")
    repo.write(
        "pkg/extra.py", "def triple(x):\n    return 3 * x\n\n\ndef add(a, b):\n    return a + b\n"
    )
    repo.commit("edit, rename, delete, add")
    counting.reset()
    report = index.update()

    assert report.mode == "incremental"
    assert report.previous_commit == first.commit
    with index.open_store() as store:
        after = snapshot(store)
        assert after == fresh_index(repo.root)
        assert_commits_hold_blobs(store, repo.root)
        assert store.manifest is not None
        assert store.manifest.branches["main"].commit == repo.head
        assert store.manifest.pending == {}
    new_texts = content_hashes(after) - content_hashes(before)
    assert len(counting.texts) == report.texts_embedded == len(new_texts)
    assert set(counting.texts) == embedded_texts(after) - embedded_texts(before)
    assert report.chunks_relabelled == 2  # shout, whisper: moved, not re-embedded
    assert report.chunks_removed > 0
    assert report.files_changed == 5  # maths, strings (old + new path), io_utils, extra


def test_rename_embeds_nothing(make_repo: Any, counting: Any, backend: dict[str, Any]) -> None:
    repo = make_repo(files=PROJECT)
    index = CodeIndex(repo.root, encoder=counting, **backend)
    index.update()
    repo.rename("pkg/maths.py", "lib/arith.py")
    repo.commit("move")
    counting.reset()
    report = index.update()
    assert counting.texts == []
    assert report.texts_embedded == 0
    assert report.chunks_relabelled == report.chunks_removed > 0
    with index.open_store() as store:
        paths = {m["path"] for _, (_, m) in snapshot(store).items()}
    assert "lib/arith.py" in paths
    assert "pkg/maths.py" not in paths


def test_branch_switch_flags_records_instead_of_copying(
    make_repo: Any, counting: Any, backend: dict[str, Any], fresh_index: Any
) -> None:
    repo = make_repo(files=PROJECT)
    index = CodeIndex(repo.root, encoder=counting, **backend)
    index.update()
    with index.open_store() as store:
        on_main = snapshot(store, keep_branches=False)

    repo.branch("feature")
    _edit_one_function(repo)
    repo.commit("feature work")
    counting.reset()
    report = index.update()
    assert report.branch == "feature"
    assert report.mode == "reconcile"
    assert report.texts_embedded == len(counting.texts) == 1  # only the edited function
    with index.open_store() as store:
        feature_view = snapshot(store, branch="feature", keep_branches=False)
        everything = snapshot(store)
        assert set(store.manifest.branches) == {"main", "feature"}  # type: ignore[union-attr]
    # one record per distinct (path, blob, chunk): maths.py exists in two versions
    assert len(everything) == len(on_main | feature_view)
    shared = set(on_main) & set(feature_view)
    assert shared
    assert all(everything[i][1][branch_key("main")] for i in shared)
    assert all(everything[i][1][branch_key("feature")] for i in shared)
    fresh = {
        rid: (doc, {k: v for k, v in meta.items() if not k.startswith("branch:")})
        for rid, (doc, meta) in fresh_index(repo.root).items()
    }
    assert feature_view == fresh

    # back on main: nothing to do, and main's view is unchanged
    repo.checkout("main")
    counting.reset()
    assert index.update().mode == "up_to_date"
    assert counting.texts == []
    with index.open_store() as store:
        assert snapshot(store, branch="main", keep_branches=False) == on_main

    # the feature branch is merged and deleted from the index's point of view: re-index main
    repo.git("merge", "-q", "--ff-only", "feature")
    report = index.update()
    assert report.mode == "incremental"
    assert report.texts_embedded == 0  # the feature's text is cached and stored already
    with index.open_store() as store:
        assert snapshot(store, branch="main", keep_branches=False) == feature_view


def test_worktree_overlay_then_back_to_commit(
    make_repo: Any, counting: Any, fresh_index: Any, tmp_path: Path
) -> None:
    repo = make_repo(files=PROJECT)
    index = CodeIndex(repo.root, encoder=counting, store_dir=tmp_path / "store")
    index.update()
    _edit_one_function(repo)
    repo.write("notes.py", "def todo():\n    return 'later'\n")
    repo.remove("pkg/strings.py")
    report = index.update(worktree=True)
    assert report.mode == "incremental"
    with index.open_store() as store:
        snap = snapshot(store)
        state = store.manifest.branches["main"]  # type: ignore[union-attr]
        assert set(state.worktree_paths) == {"pkg/maths.py", "notes.py", "pkg/strings.py"}
        worktree = {m["path"] for _, m in snap.values() if m["source"] == "worktree"}
        assert worktree == {"pkg/maths.py", "notes.py"}
        metas = store.collection.get(where={"source": "worktree"})["metadatas"]
        assert metas
        assert all(m["commit"] == "worktree" for m in metas)
        assert not any(m["path"] == "pkg/strings.py" for _, m in snap.values())

    # without the overlay the index returns to exactly the commit
    counting.reset()
    report = index.update()
    assert counting.texts == []
    with index.open_store() as store:
        assert snapshot(store) == fresh_index(repo.root)


def test_status_reports_indexed_commit_and_changes(
    make_repo: Any, counting: Any, tmp_path: Path
) -> None:
    repo = make_repo(files=PROJECT)
    index = CodeIndex(repo.root, encoder=counting, store_dir=tmp_path / "store")
    report = index.update()
    status = index.status()
    assert status.up_to_date
    assert status.indexed_commit == report.commit
    assert status.chunks == report.chunks_total
    _edit_one_function(repo)
    repo.write("new.py", "X = 1\n")
    repo.commit("more")
    status = index.status()
    assert not status.up_to_date
    assert status.files_changed == ["new.py", "pkg/maths.py"]
    assert "would check 2 changed files" in status.summary()


def test_lexical_index_follows_every_update(make_repo: Any, counting: Any, tmp_path: Path) -> None:
    repo = make_repo(files=PROJECT)
    index = CodeIndex(repo.root, encoder=counting, store_dir=tmp_path / "store")
    index.update()
    _edit_one_function(repo)
    repo.remove("pkg/io_utils.py")
    repo.commit("change")
    index.update()
    with index.open_store() as store:
        lexical = store.lexical
        assert store.manifest is not None
        assert lexical.generation == store.manifest.generation
        assert set(lexical.ids()) == set(snapshot(store))
        hits = [rid for rid, _ in lexical.search("commutes", k=3)]
        assert store.collection.get(ids=hits[:1])["metadatas"][0]["name"].endswith("mul")


def test_vectors_are_reused_from_the_store_when_the_cache_is_gone(
    make_repo: Any, counting: Any, backend: dict[str, Any]
) -> None:
    repo = make_repo(files=PROJECT)
    index = CodeIndex(repo.root, encoder=counting, **backend)
    index.update()
    (backend["store_dir"] / "embeddings.sqlite").unlink()  # e.g. another machine, same server
    for suffix in ("-wal", "-shm"):
        (backend["store_dir"] / f"embeddings.sqlite{suffix}").unlink(missing_ok=True)
    _edit_one_function(repo)
    repo.commit("edit")
    counting.reset()
    report = index.update()
    # the edited text, and its signature view: stored vectors are blends, not the view's own
    assert sorted(counting.texts) == [
        "def mul(a, b):\n    return b * a  # commutes",
        "mul\nmul: def mul(a, b)",
    ]
    assert report.store_hits > 0  # the file's other functions, from the stored records


def test_a_new_chunker_setting_rebuilds_from_cached_vectors(
    make_repo: Any, counting: Any, tmp_path: Path, fresh_index: Any
) -> None:
    repo = make_repo(files=PROJECT)
    CodeIndex(repo.root, encoder=counting, store_dir=tmp_path / "s").update()
    counting.reset()
    smaller = CodeIndex(repo.root, encoder=counting, store_dir=tmp_path / "s", max_tokens=40)
    report = smaller.update()
    assert report.mode == "full"
    assert report.cache_hits > 0  # chunks that did not change under the new setting
    with smaller.open_store() as store:
        assert snapshot(store) == fresh_index(repo.root, max_tokens=40)
        assert store.manifest is not None
        assert "max=40" in store.manifest.chunker_version
