"""``c2rag index`` and ``c2rag status`` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from c2rag.cli import cli
from tests.index.conftest import PROJECT


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tiny_c2llm_dir: Path) -> CliRunner:
    # the default model comes from $C2RAG_MODEL: the tiny checkpoint, never a download
    monkeypatch.setenv("C2RAG_MODEL", str(tiny_c2llm_dir))
    return CliRunner()


def test_index_then_status_then_incremental(
    runner: CliRunner, make_repo: Any, tmp_path: Path, tiny_c2llm_dir: Path
) -> None:
    repo = make_repo(files=PROJECT)
    store = str(tmp_path / "store")

    result = runner.invoke(cli, ["status", str(repo.root), "--store", store])
    assert result.exit_code == 1
    assert f"build one with `c2rag index {repo.root} --store {store}`" in result.output

    result = runner.invoke(cli, ["index", str(repo.root), "--store", store, "--no-progress"])
    assert result.exit_code == 0, result.output
    assert f"using {tiny_c2llm_dir} (from $C2RAG_MODEL)" in result.stderr
    assert "full build:" in result.stdout

    result = runner.invoke(cli, ["status", str(repo.root), "--store", store, "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["up_to_date"] is True
    assert status["indexed_commit"] == repo.head
    assert status["model_name"] == tiny_c2llm_dir.name

    repo.write("pkg/more.py", "def more():\n    return 2\n")
    repo.commit("more")
    result = runner.invoke(cli, ["status", str(repo.root), "--store", store])
    assert "`c2rag index` would check 1 changed files" in result.stdout

    # the existing index keeps its model: no default-model message this time
    result = runner.invoke(cli, ["index", str(repo.root), "--store", store, "--json"])
    assert result.exit_code == 0, result.output
    assert "from $C2RAG_MODEL" not in result.stderr
    report = json.loads(result.stdout)
    assert report["mode"] == "incremental"
    assert report["texts_embedded"] == 2  # more() and its signature view
    assert report["commit"] == repo.head


def test_user_errors_are_clean(runner: CliRunner, make_repo: Any, tmp_path: Path) -> None:
    repo = make_repo(files=PROJECT)
    store = str(tmp_path / "store")
    result = runner.invoke(cli, ["index", str(repo.root), "--store", store, "--ref", "nope"])
    assert result.exit_code == 1
    assert "Error: unknown revision 'nope'" in result.output
    assert "Traceback" not in result.output

    result = runner.invoke(
        cli,
        [
            "index",
            str(repo.root),
            "--store",
            store,
            "--chroma-host",
            "127.0.0.1",
            "--chroma-port",
            "1",
        ],
    )
    assert result.exit_code == 1
    assert "cannot reach the Chroma server at 127.0.0.1:1" in result.output

    not_git = tmp_path / "plain"
    not_git.mkdir()
    result = runner.invoke(cli, ["index", str(not_git), "--store", store])
    assert result.exit_code == 1
    assert str(not_git) in result.output


def test_rebuild_without_model_keeps_a_loadable_model_reference(
    runner: CliRunner, make_repo: Any, tmp_path: Path, tiny_c2llm_dir: Path
) -> None:
    """A rebuild takes its model from the manifest and must record where it loaded it from,
    not the model's display name, or search and chat could no longer open the index."""
    from c2rag.store import IndexStore, StoreLocation

    repo = make_repo(files=PROJECT)
    store = tmp_path / "store"
    for extra in ([], ["--rebuild"]):
        result = runner.invoke(cli, ["index", str(repo.root), "--store", str(store), *extra])
        assert result.exit_code == 0, result.output
        location = StoreLocation.for_repo(repo.root, store_dir=store)
        with IndexStore.open(location) as opened:
            assert opened.manifest is not None
            assert opened.manifest.model_ref == str(tiny_c2llm_dir.resolve())
    result = runner.invoke(
        cli, ["search", "add two numbers", str(repo.root), "--store", str(store)]
    )
    assert result.exit_code == 0, result.output


def test_index_built_from_an_encoder_object_names_where_to_load_it(
    make_repo: Any, tmp_path: Path, tiny_c2llm_dir: Path, tiny_encoder: Any
) -> None:
    from c2rag.index import CodeIndex
    from c2rag.store import IndexStore

    repo = make_repo(files=PROJECT)
    index = CodeIndex(repo.root, encoder=tiny_encoder, store_dir=tmp_path / "store")
    index.update()
    with IndexStore.open(index.location) as opened:
        assert opened.manifest is not None
        assert Path(opened.manifest.model_ref).resolve() == tiny_c2llm_dir.resolve()


def test_index_can_leave_the_channels_unmeasured(
    runner: CliRunner, make_repo: Any, tmp_path: Path
) -> None:
    repo = make_repo(files=PROJECT)
    store = str(tmp_path / "store")
    args = ["index", str(repo.root), "--store", store, "--no-progress", "--no-calibrate"]
    assert runner.invoke(cli, args).exit_code == 0
    status = json.loads(
        runner.invoke(cli, ["status", str(repo.root), "--store", store, "--json"]).stdout
    )
    assert status["calibration"] is None
    # measured by the next update that is allowed to (the index has none yet)
    assert runner.invoke(cli, ["index", str(repo.root), "--store", store]).exit_code == 0
    status = json.loads(
        runner.invoke(cli, ["status", str(repo.root), "--store", store, "--json"]).stdout
    )
    assert status["calibration"] is not None
