"""Paths are stored exactly as git names them and round-trip through index, search,
open_chunk, update and delete (issue #10, item 5); non-UTF-8 names are skipped with a reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from c2rag.citations import open_citation
from c2rag.git import GitRepo
from c2rag.index import CodeIndex
from c2rag.retrieve import CodeRetriever
from c2rag.store.chroma import get_all

# file name → a function name found nowhere else
ODD = {
    "back\\slash.py": "backslash_marker_fn",
    "new\nline.py": "newline_marker_fn",
    'it\'s "quoted".py': "quoted_marker_fn",
    "-leading-dash.py": "dash_marker_fn",
    "dir with space/ünïcode.py": "unicode_marker_fn",
}


def _source(name: str) -> str:
    return f"def {name}(value):\n    return value + {len(name)}\n"


def _stored_paths(index: CodeIndex) -> set[str]:
    with index.open_store() as store:
        return {str(m["path"]) for _, _, m in get_all(store.collection)}


def test_odd_paths_round_trip(make_repo: Any, tiny_encoder: Any, tmp_path: Path) -> None:
    files = {path: _source(fn) for path, fn in ODD.items()}
    repo = make_repo(files={**files, "plain.py": _source("plain_fn")})
    repo.write(b"latin1-\xe9.py", _source("latin1_fn"))
    repo.commit("a file whose name is not UTF-8")
    index = CodeIndex(repo.root, encoder=tiny_encoder, store_dir=tmp_path / "store")
    report = index.update()
    assert _stored_paths(index) == {*ODD, "plain.py"}
    assert any(reason == "non_utf8_path" for _, reason in report.files_skipped)

    with CodeRetriever.from_path(repo.root, store_dir=tmp_path / "store") as retriever:
        for path, fn in ODD.items():
            hits = retriever.search(fn, k=3)
            top = next(h for h in hits if h.chunk.name.endswith(fn))
            assert top.chunk.path == path
            opened = open_citation(GitRepo(repo.root), top.citation)
            assert (opened.status, opened.path) == ("unchanged", path)
            assert f"def {fn}" in opened.text

        repo.git("rm", "-q", "back\\slash.py")
        repo.commit("remove the backslash file")
        removed = index.update()
        assert removed.chunks_removed >= 1
        assert "back\\slash.py" not in _stored_paths(index)
        hits = retriever.search("backslash_marker_fn", k=5)
        assert all(h.chunk.path != "back\\slash.py" for h in hits)
        assert all("backslash_marker_fn" not in h.chunk.text for h in hits)
