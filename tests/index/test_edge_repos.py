"""Unusual repositories index without crashing and say what they skipped."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from c2rag.errors import GitError, IndexMismatchError, IndexNotFoundError
from c2rag.index import CodeIndex
from c2rag.store.records import branch_key
from tests.fixtures.models import build_tiny_c2llm
from tests.index.conftest import PROJECT, content_hashes, snapshot

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def test_binary_non_utf8_submodule_symlink(make_repo: Any, counting: Any, tmp_path: Path) -> None:
    other = make_repo("other", files={"lib.py": "def lib():\n    return 1\n"})
    repo = make_repo(files=PROJECT)
    repo.write("img.png", PNG)
    repo.write("legacy.py", "def caf\xe9():\n    return 'd\xe9j\xe0 vu'\n".encode("latin-1"))
    repo.symlink("link.py", "pkg/maths.py")
    repo.add_submodule("vendor/other", other)
    repo.commit("odd files")

    report = CodeIndex(repo.root, encoder=counting, store_dir=tmp_path / "s").update()
    skipped = dict(report.files_skipped)
    assert skipped["img.png"] == "binary"
    assert skipped["link.py"] == "symlink"
    assert skipped["vendor/other"] == "submodule"
    assert ("legacy.py", "non_utf8") in report.files_flagged
    assert report.skipped_by_reason()["binary"] == 1
    assert "skipped by reason" in report.summary()
    with CodeIndex(repo.root, encoder=counting, store_dir=tmp_path / "s").open_store() as store:
        paths = {m["path"] for _, m in snapshot(store).values()}
    assert "legacy.py" in paths
    assert not paths & {"img.png", "link.py", "vendor/other", "vendor/other/lib.py"}


def test_vendored_code_is_named_with_the_way_to_take_it_back(
    make_repo: Any, counting: Any, tmp_path: Path
) -> None:
    files = {
        **PROJECT,
        "third_party/protobuf/compiler.cc": "int compile() { return 0; }\n",
        "third_party/protobuf/parser.cc": "int parse() { return 1; }\n",
        "web/node_modules/left-pad/index.js": "module.exports = function () {};\n",
    }
    repo = make_repo(files=files)
    report = CodeIndex(repo.root, encoder=counting, store_dir=tmp_path / "s").update()
    summary = report.summary()
    assert (
        "vendored code left out: third_party/ (2 files), web/node_modules/ (1 files); "
        "to index it, add `!third_party/` to .c2ragignore"
    ) in summary
    repo.write(".c2ragignore", "!third_party/\n")
    repo.commit("index the vendored compiler")
    again = CodeIndex(repo.root, encoder=counting, store_dir=tmp_path / "s").update()
    assert "third_party/" not in again.summary()
    with CodeIndex(repo.root, encoder=counting, store_dir=tmp_path / "s").open_store() as store:
        paths = {m["path"] for _, m in snapshot(store).values()}
    assert "third_party/protobuf/compiler.cc" in paths


def test_empty_repo_reports_and_writes_nothing(
    make_repo: Any, counting: Any, tmp_path: Path
) -> None:
    repo = make_repo()
    index = CodeIndex(repo.root, encoder=counting, store_dir=tmp_path / "s")
    report = index.update()
    assert report.mode == "empty"
    assert "no commits" in report.summary()
    assert not index.exists()
    with pytest.raises(IndexNotFoundError, match="build one with `c2rag index"):
        index.status()


def test_detached_head_is_indexed_under_head_label(
    make_repo: Any, counting: Any, tmp_path: Path
) -> None:
    repo = make_repo(files=PROJECT)
    repo.write("pkg/new.py", "def new():\n    return 0\n")
    repo.commit("second")
    sha = repo.detach("HEAD~1")
    index = CodeIndex(repo.root, encoder=counting, store_dir=tmp_path / "s")
    report = index.update()
    assert (report.branch, report.commit) == ("HEAD", sha)
    with index.open_store() as store:
        snap = snapshot(store)
    assert snap
    assert all(meta[branch_key("HEAD")] for _, meta in snap.values())
    assert "pkg/new.py" not in {m["path"] for _, m in snap.values()}


def test_shallow_clone_and_lost_history(
    make_repo: Any, counting: Any, tmp_path: Path, fresh_index: Any
) -> None:
    origin = make_repo("origin", files=PROJECT)
    old = origin.head
    origin.write("pkg/new.py", "def new():\n    return 0\n")
    origin.commit("second")
    clone = origin.clone_shallow(tmp_path / "clone", depth=1)

    index = CodeIndex(clone.root, encoder=counting, store_dir=tmp_path / "s")
    report = index.update()
    assert report.mode == "full"
    assert report.chunks_total > 0
    with pytest.raises(GitError, match="shallow clone may lack it"):
        index.update(old)

    # history rewritten under the index: the indexed commit disappears
    clone.git("checkout", "-q", "--orphan", "rewritten")
    clone.write("pkg/maths.py", "def add(a, b):\n    return a + b\n")
    clone.commit("rewritten history")
    clone.git("branch", "-D", "main")
    clone.git("branch", "-m", "main")
    clone.git("remote", "remove", "origin")
    clone.git("reflog", "expire", "--expire=now", "--all")
    clone.git("gc", "-q", "--prune=now")
    assert (
        subprocess.run(
            ["git", "cat-file", "-e", report.commit], cwd=clone.root, capture_output=True
        ).returncode
        != 0
    )
    again = index.update()
    assert again.mode == "reconcile"
    assert "no longer in the repository" in again.notes[0]
    with index.open_store() as store:
        assert snapshot(store) == fresh_index(clone.root)


def test_refuses_a_different_model_until_rebuilt(
    make_repo: Any, counting: Any, tmp_path: Path
) -> None:
    from c2rag.encode.engine import Encoder

    repo = make_repo(files=PROJECT)
    index = CodeIndex(repo.root, encoder=counting, store_dir=tmp_path / "s")
    first = index.update()
    other_dir = build_tiny_c2llm(tmp_path / "Other-Model", seed=1, hidden=32, pma_heads=16)
    other = Encoder(other_dir, device="cpu", dtype="fp32")
    assert other.dim != counting.dim

    switched = CodeIndex(repo.root, encoder=other, store_dir=tmp_path / "s")
    with pytest.raises(IndexMismatchError) as caught:
        switched.update()
    message = str(caught.value)
    assert counting.model_name in message
    assert "Other-Model" in message
    assert f"dim {counting.dim}" in message
    assert f"dim {other.dim}" in message
    assert "--rebuild" in message
    with index.open_store() as store:  # the refusal changed nothing
        assert store.collection.count() == first.chunks_total
        assert store.manifest is not None
        assert store.manifest.dim == counting.dim

    rebuilt = switched.update(rebuild=True)
    assert rebuilt.mode == "full"
    with switched.open_store() as store:
        assert rebuilt.texts_embedded == len(content_hashes(snapshot(store)))
        assert store.manifest is not None
        assert store.manifest.dim == other.dim
