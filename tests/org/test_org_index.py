"""Many repositories into one store: shared cache, a bad entry does not stop the others."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from c2rag.cli import cli
from c2rag.index import CodeIndex
from c2rag.org import OrgIndex, read_repo_list
from c2rag.store.cache import EmbeddingCache
from tests.index.embedders import CountingEmbedder
from tests.org.conftest import assert_same_index, functions, snapshot


def test_a_planned_update_scans_each_file_once(make_repo, tiny_encoder, tmp_path: Path, caplog):
    settings = (
        'DEBUG = False\nAWS_ACCESS_KEY_ID = "AKIAZ3MBQ7XPL2RTYWQ4"\n\n\ndef f():\n    return 1\n'
    )
    repo = make_repo("keys", files={"app/settings.py": settings, "app/a.py": functions("a", 3)})
    with caplog.at_level("WARNING", logger="c2rag.git.secrets"):
        report = OrgIndex([repo.root], encoder=tiny_encoder, store_dir=tmp_path / "org").update()
    assert not report.failed
    # one warning: the update reuses the plan's verdict instead of scanning again
    warned = [r.getMessage() for r in caplog.records if r.name == "c2rag.git.secrets"]
    assert len(warned) == 1 and "app/settings.py" in warned[0], warned
    flagged = report.repos[0].report.files_skipped  # type: ignore[union-attr]
    assert any("app/settings.py" in str(entry) for entry in flagged), flagged


def test_two_repositories_share_one_cache_and_match_single_repo_indexes(
    two_repos, tiny_encoder, tmp_path: Path
) -> None:
    alpha, beta = two_repos
    counting = CountingEmbedder(tiny_encoder)
    not_git = tmp_path / "plain"
    not_git.mkdir()
    org = OrgIndex(
        [alpha.root, beta.root, not_git, tmp_path / "missing"],
        encoder=counting,
        store_dir=tmp_path / "org",
    )
    report = org.update()

    assert [r.name for r in report.failed] == [str(not_git), str(tmp_path / "missing")]
    assert "not a git repository" in report.failed[0].error
    assert "no such directory" in report.failed[1].error
    indexed = {r.name: r.report for r in report.repos if r.report is not None}
    assert set(indexed) == {"alpha", "beta"}
    # the vendored file's chunks are needed twice but embedded once
    assert report.texts_planned > report.texts_unique
    assert report.texts_embedded == report.texts_unique == len(counting.texts)
    assert all(r.texts_embedded == 0 for r in indexed.values())
    blends = {
        meta["vector_key"]
        for repo in (alpha, beta)
        for _, meta, _ in snapshot(repo.root, tmp_path / "org").values()
        if meta["view_hash"]
    }
    with EmbeddingCache(tmp_path / "org" / "embeddings.sqlite") as cache:
        # every text (chunks and signature views) once, and each stored blend of the two
        assert len(cache) == report.texts_unique + len(blends)
    assert "NOT INDEXED" in report.summary()

    for repo in (alpha, beta):
        CodeIndex(repo.root, encoder=tiny_encoder, store_dir=tmp_path / repo.root.name).update()
        assert_same_index(
            snapshot(repo.root, tmp_path / "org"), snapshot(repo.root, tmp_path / repo.root.name)
        )

    # a second run has nothing to do
    again = OrgIndex([alpha.root, beta.root], encoder=counting, store_dir=tmp_path / "org")
    second = again.update()
    assert second.texts_embedded == 0
    assert {r.report.mode for r in second.repos if r.report} == {"up_to_date"}


def test_incremental_change_embeds_only_the_new_function(
    two_repos, tiny_encoder, tmp_path: Path
) -> None:
    alpha, beta = two_repos
    store = tmp_path / "org"
    OrgIndex([alpha.root, beta.root], encoder=tiny_encoder, store_dir=store).update()
    beta.write("src/new.py", "def brand_new(x):\n    return x + 41\n")
    beta.commit("add a function")
    report = OrgIndex([alpha.root, beta.root], encoder=tiny_encoder, store_dir=store).update()
    assert report.texts_embedded == 2  # the function and its signature view
    modes = {r.name: r.report.mode for r in report.repos if r.report}
    assert modes == {"alpha": "up_to_date", "beta": "incremental"}


def test_repo_list_file(tmp_path: Path) -> None:
    listing = tmp_path / "repos.txt"
    listing.write_text("# services\nsvc-a\n\n  /abs/svc-b  # the other one\n", encoding="utf-8")
    assert read_repo_list(listing) == [str(tmp_path / "svc-a"), "/abs/svc-b"]


def test_cli_indexes_several_and_names_the_bad_one(
    two_repos, tiny_c2llm_dir: Path, tmp_path: Path
) -> None:
    alpha, beta = two_repos
    listing = tmp_path / "repos.txt"
    listing.write_text(f"{beta.root}\n{tmp_path / 'nope'}\n", encoding="utf-8")
    args = ["index", str(alpha.root), "--repos-file", str(listing)]
    args += ["--store", str(tmp_path / "org"), "-m", str(tiny_c2llm_dir)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert f"{tmp_path / 'nope'}: NOT INDEXED" in result.output
    assert "2/3 repositories indexed" in result.output
    assert snapshot(alpha.root, tmp_path / "org")
    assert snapshot(beta.root, tmp_path / "org")


def test_cli_ray_without_a_reachable_cluster_fails_before_planning(
    two_repos, tmp_path: Path
) -> None:
    alpha, _ = two_repos
    store = tmp_path / "org"
    args = ["index", str(alpha.root), "--store", str(store), "--ray=127.0.0.1:9"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert "cannot reach the Ray cluster at 127.0.0.1:9" in result.output
    assert not store.exists()  # nothing planned, nothing created


def test_cli_ray_without_ray_installed_names_the_extra(
    two_repos, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules is how Python marks a package as not importable
    monkeypatch.setitem(sys.modules, "ray", None)
    alpha, beta = two_repos
    store = tmp_path / "org"
    args = ["index", str(alpha.root), str(beta.root), "--store", str(store), "--ray"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: --ray needs Ray, which is not installed: pip install 'c2rag[ray]'"
    ]
    assert not store.exists()


def test_cli_rerun_without_model_keeps_the_index_model(
    two_repos, tiny_c2llm_dir: Path, tmp_path: Path
) -> None:
    alpha, beta = two_repos
    args = ["index", str(alpha.root), str(beta.root), "--store", str(tmp_path / "org")]
    first = CliRunner().invoke(cli, [*args, "-m", str(tiny_c2llm_dir)])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert "2/2 repositories indexed" in again.output
    assert "; 0 embedded" in again.output
