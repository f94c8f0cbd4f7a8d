from __future__ import annotations

from pathlib import Path

import pytest

from c2rag.store import StoreLocation, default_store_dir


def test_default_dir_uses_c2rag_home_and_separates_clones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("C2RAG_HOME", str(tmp_path / "home"))
    one = default_store_dir(tmp_path / "a" / "proj")
    two = default_store_dir(tmp_path / "b" / "proj")
    assert one.parent == two.parent == tmp_path / "home"
    assert one.name.startswith("proj-")
    assert one != two


def test_default_dir_without_c2rag_home_is_user_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import platformdirs

    monkeypatch.delenv("C2RAG_HOME", raising=False)
    base = Path(platformdirs.user_data_dir("c2rag", appauthor=False))
    assert default_store_dir(tmp_path / "proj").parent == base


def test_locations_embedded_and_server(tmp_path: Path) -> None:
    local = StoreLocation.for_repo(tmp_path / "My Repo!", store_dir=tmp_path / "s")
    assert local.data_dir == (tmp_path / "s").resolve()
    assert local.chroma_dir == local.data_dir / "chroma"
    assert not local.is_server
    assert local.collection_name.startswith("c2rag-My-Repo-")
    assert "--store" in local.cli_options()
    server = StoreLocation.for_repo(tmp_path, store_dir=tmp_path / "s", host="h")
    assert (server.host, server.port) == ("h", 8000)
    assert server.lock_path != local.lock_path
    assert "h:8000" in server.describe()
    with pytest.raises(ValueError, match="without a host"):
        StoreLocation.for_repo(tmp_path, port=1234)
