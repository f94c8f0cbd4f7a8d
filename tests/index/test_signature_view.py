"""The signature view: what it is made of, what is stored, and how a new weight rebuilds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from c2rag.index import CodeIndex
from c2rag.store.views import SignatureView, blend
from tests.index.conftest import PROJECT


def _records(index: CodeIndex) -> dict[str, tuple[str, dict[str, Any], np.ndarray]]:
    with index.open_store() as store:
        got = store.collection.get(include=["documents", "metadatas", "embeddings"])
    return {
        str(meta["name"]): (doc, dict(meta), np.asarray(vec, dtype=np.float32))
        for doc, meta, vec in zip(
            got["documents"], got["metadatas"], got["embeddings"], strict=True
        )
        if int(meta["part"]) == 1
    }


def test_view_text_names_the_symbol_and_skips_modules_and_windows() -> None:
    view = SignatureView()
    method = {
        "kind": "method",
        "name": "pkg.maths.Vector.norm",
        "parent": "pkg.maths.Vector",
        "signature": "def norm(self)",
        "docstring": "Euclidean length.",
    }
    assert view.text(method) == "norm\nVector.norm: def norm(self)\nEuclidean length."
    function = {"kind": "function", "name": "pkg.maths.mul", "signature": "def mul(a, b)"}
    assert view.text(function) == "mul\nmul: def mul(a, b)"
    # the docstring's first paragraph only, and never more than a few lines of it
    long_doc = dict(function, docstring="Multiply   two\nnumbers.\n\n:param a: a factor\n")
    assert view.text(long_doc) == "mul\nmul: def mul(a, b)\nMultiply two numbers."
    wordy = view.text(dict(function, docstring="word " * 200))
    assert wordy.startswith("mul\nmul: def mul(a, b)\nword") and len(wordy) < 350
    # the name as words, for a model that reads words better than identifiers
    camel = dict(method, name="http.Pool.getConnFromPool", parent="http.Pool", signature="f()")
    assert view.text(camel).startswith("get conn from pool\nPool.getConnFromPool: ")
    rust = dict(function, name="Retry::parse_retry_after", signature="fn parse_retry_after()")
    assert view.text(rust).startswith("parse retry after\n")
    assert view.text({"kind": "module", "name": "pkg.maths", "signature": ""}) == ""
    assert view.text({"kind": "window", "name": "README.md", "signature": "x"}) == ""
    assert SignatureView(weight=0).text(function) == ""
    with pytest.raises(ValueError, match="signature_weight"):
        SignatureView(weight=-1)
    with pytest.raises(ValueError, match="signature_weight"):
        CodeIndex(".", signature_weight=float("nan"))


def test_stored_vector_blends_text_and_view(
    make_repo: Any, tiny_encoder: Any, tmp_path: Path
) -> None:
    repo = make_repo(files=PROJECT)
    index = CodeIndex(repo.root, encoder=tiny_encoder, store_dir=tmp_path / "s")
    index.update()
    records = _records(index)

    doc, meta, stored = records["pkg.maths.add"]
    view = "add\nadd: def add(a, b)\nAdd two numbers."
    assert SignatureView().text(meta) == view
    text_vec, view_vec = tiny_encoder.encode_documents([doc, view])
    expected = blend(text_vec, view_vec, 0.5)
    assert np.allclose(stored, expected, atol=1e-5)
    assert not np.allclose(stored, text_vec, atol=1e-3)

    # a module remainder has no view: its vector is its text's
    doc, meta, stored = records["pkg.maths"]
    assert meta["view_hash"] == "" and meta["vector_key"] == meta["content_hash"]
    assert np.allclose(stored, tiny_encoder.encode_documents([doc])[0], atol=1e-5)


def test_a_new_weight_rebuilds_from_cached_vectors(
    make_repo: Any, counting: Any, tiny_encoder: Any, tmp_path: Path
) -> None:
    repo = make_repo(files=PROJECT)
    store = tmp_path / "s"
    CodeIndex(repo.root, encoder=counting, store_dir=store).update()
    before = _records(CodeIndex(repo.root, encoder=counting, store_dir=store))

    counting.reset()
    off = CodeIndex(repo.root, encoder=counting, store_dir=store, signature_weight=0)
    same = CodeIndex(repo.root, encoder=counting, store_dir=store).status()
    assert same.update_mode == "up_to_date" and same.rebuild_reason == ""
    told = off.status()  # status tells before the update does it
    assert told.update_mode == "full"
    assert "views=2:0.5" in told.rebuild_reason
    assert "would rebuild every file" in told.summary()
    report = off.update()
    assert report.mode == "full"
    assert counting.texts == []  # text vectors are all cached: nothing is embedded again
    after = _records(off)
    assert set(after) == set(before)
    for name, (doc, meta, vector) in after.items():
        assert meta["view_hash"] == ""
        assert np.allclose(vector, tiny_encoder.encode_documents([doc])[0], atol=1e-5), name
    assert not np.allclose(after["pkg.maths.mul"][2], before["pkg.maths.mul"][2], atol=1e-3)

    # and back: the blends are rebuilt from the cache, again without a model call
    counting.reset()
    again = CodeIndex(repo.root, encoder=counting, store_dir=store).update()
    assert again.mode == "full"
    assert counting.texts == []
    restored = _records(CodeIndex(repo.root, encoder=counting, store_dir=store))
    assert np.allclose(restored["pkg.maths.mul"][2], before["pkg.maths.mul"][2], atol=1e-6)
