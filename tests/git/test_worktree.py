"""GitRepo.worktree_overlay: the working tree on top of a commit."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from c2rag.git import FileEntry, GitRepo, Skipped, blob_sha
from tests.fixtures.repos import ScratchRepo

MakeRepo = Callable[..., ScratchRepo]


def _by_path(entries: list[FileEntry]) -> dict[str, FileEntry]:
    return {e.path: e for e in entries}


def _hash_object(repo: ScratchRepo, path: str) -> str:
    return repo.git("hash-object", "--no-filters", "--", path).strip()


@pytest.fixture
def repo(make_repo: MakeRepo) -> ScratchRepo:
    return make_repo(
        files={
            ".gitignore": "*.log\nscratch/\n",
            "src/app.py": "def main():\n    return 1\n",
            "src/util.py": "def helper():\n    return 2\n",
            "src/stay.py": "S = 1\n",
            "docs/readme.md": "# docs\n",
            "config.pem": "---key---\n",
        }
    )


def test_clean_worktree_has_empty_overlay(repo: ScratchRepo) -> None:
    with GitRepo(repo.root) as g:
        assert g.worktree_overlay() == ([], [], [])


def test_modified_untracked_staged_and_deleted(repo: ScratchRepo) -> None:
    repo.write("src/app.py", "def main():\n    return 42\n")  # modified
    repo.write("src/new module.py", "def fresh():\n    pass\n")  # untracked
    repo.write("staged.py", "STAGED = 1\n")
    repo.git("add", "staged.py")  # staged, not committed
    repo.write("debug.log", "noise\n")  # untracked but .gitignore'd
    repo.write("scratch/tmp.py", "x = 1\n")  # untracked in an ignored dir
    repo.write("local.env", "fine\n")
    repo.write(".env", "TOKEN=abc\n")  # untracked, built-in secret
    repo.write("node_modules/x/index.js", "1\n")  # untracked, vendored
    repo.remove("src/util.py")  # deleted
    repo.remove("config.pem")  # deleted, but never indexed
    with GitRepo(repo.root) as g:
        entries, deleted, skipped = g.worktree_overlay()
    found = _by_path(entries)
    assert sorted(found) == ["local.env", "src/app.py", "src/new module.py", "staged.py"]
    assert deleted == ["src/util.py"]
    assert {(s.path, s.reason) for s in skipped} == {
        (".env", "secret"),
        ("node_modules/x/index.js", "vendored"),
    }
    for path, entry in found.items():
        assert entry.source == "worktree"
        assert entry.blob_sha == _hash_object(repo, path)
        assert entry.size == len(repo.read(path))
        with GitRepo(repo.root) as g:
            assert g.read(entry) == repo.read(path)


def test_overlay_against_an_older_commit(repo: ScratchRepo) -> None:
    old = repo.head
    repo.write("src/app.py", "def main():\n    return 3\n")
    repo.write("src/later.py", "L = 1\n")
    repo.commit("later")
    repo.write("src/stay.py", "S = 2\n")
    with GitRepo(repo.root) as g:
        entries, deleted, _ = g.worktree_overlay(old)
        assert sorted(_by_path(entries)) == ["src/app.py", "src/later.py", "src/stay.py"]
        assert deleted == []
        entries, _, _ = g.worktree_overlay("HEAD")
        assert sorted(_by_path(entries)) == ["src/stay.py"]


def test_reverted_edit_is_not_an_overlay_entry(repo: ScratchRepo) -> None:
    original = repo.read("src/app.py")
    repo.write("src/app.py", "changed\n")
    repo.write("src/app.py", original)
    with GitRepo(repo.root) as g:
        assert g.worktree_overlay()[0] == []


def test_symlink_and_type_changes_in_worktree(repo: ScratchRepo) -> None:
    repo.remove("src/stay.py")
    repo.symlink("src/stay.py", "app.py")  # tracked file became a symlink
    repo.symlink("link_to_app.py", "src/app.py")  # new untracked symlink
    repo.path("src/app.py").chmod(0o755)  # mode only: same content, executable
    with GitRepo(repo.root) as g:
        entries, deleted, skipped = g.worktree_overlay()
    assert deleted == ["src/stay.py"]
    assert {(s.path, s.reason) for s in skipped} == {
        ("src/stay.py", "symlink"),
        ("link_to_app.py", "symlink"),
    }
    app = _by_path(entries)["src/app.py"]
    assert app.mode == 0o100755
    assert app.blob_sha == repo.git("rev-parse", "HEAD:src/app.py").strip()


def test_worktree_c2ragignore_governs_the_overlay(repo: ScratchRepo) -> None:
    repo.write(".c2ragignore", "docs/\n")  # uncommitted rule: hides a committed file
    repo.write("docs/new.md", "# new\n")
    with GitRepo(repo.root) as g:
        entries, deleted, skipped = g.worktree_overlay()
        assert sorted(_by_path(entries)) == [".c2ragignore"]
        assert deleted == ["docs/readme.md"]
        assert {(s.path, s.reason) for s in skipped} == {
            ("docs/new.md", "c2ragignore"),
            ("docs/readme.md", "c2ragignore"),
        }
    # and the other way round: a committed rule dropped in the worktree re-includes files
    repo.commit("ignore docs")
    repo.remove(".c2ragignore")
    with GitRepo(repo.root) as g:
        assert [e.path for e in g.list_files()[0] if e.path.startswith("docs/")] == []
        entries, deleted, _ = g.worktree_overlay()
    assert sorted(_by_path(entries)) == ["docs/new.md", "docs/readme.md"]
    assert deleted == [".c2ragignore"]


def test_empty_repository_overlay_from_the_empty_tree(make_repo: MakeRepo) -> None:
    repo = make_repo()
    repo.write("a.py", "A = 1\n")
    repo.write("pkg/b.py", "B = 1\n")
    repo.write("secret.key", "k\n")
    with GitRepo(repo.root) as g:
        entries, deleted, skipped = g.worktree_overlay(None)
    assert sorted(_by_path(entries)) == ["a.py", "pkg/b.py"]
    assert deleted == []
    assert skipped == [Skipped("secret.key", "secret", "*.key")]
    assert _by_path(entries)["a.py"].blob_sha == blob_sha(b"A = 1\n")


def test_untracked_nested_repository_is_skipped(repo: ScratchRepo, make_repo: MakeRepo) -> None:
    make_repo("repo/nested", files={"n.py": "N = 1\n"})
    with GitRepo(repo.root) as g:
        entries, _, skipped = g.worktree_overlay()
    assert entries == []
    assert skipped == [Skipped("nested", "submodule", "nested repository")]


def test_non_utf8_untracked_name_and_content(repo: ScratchRepo) -> None:
    repo.write(b"caf\xe9.py", b"x = 1\n")
    repo.write("latin.py", "é = 1\n".encode("latin-1"))
    with GitRepo(repo.root) as g:
        entries, _, skipped = g.worktree_overlay()
        assert [e.path for e in entries] == ["latin.py"]
        assert g.read(entries[0]) == "é = 1\n".encode("latin-1")
    assert skipped == [Skipped("caf\\xe9.py", "non_utf8_path")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files regardless of permissions")
def test_unreadable_untracked_file_is_skipped(repo: ScratchRepo) -> None:
    target = repo.write("locked.py", "x = 1\n")
    target.chmod(0)
    try:
        with GitRepo(repo.root) as g:
            _, _, skipped = g.worktree_overlay()
    finally:
        target.chmod(0o644)
    assert [(s.path, s.reason) for s in skipped] == [("locked.py", "unreadable")]


def test_blob_sha_matches_git(make_repo: MakeRepo) -> None:
    data = b"\x00binary\xffdata\n" * 100
    repo = make_repo(files={"blob.bin": data})
    assert blob_sha(data) == repo.git("rev-parse", "HEAD:blob.bin").strip()
    assert blob_sha(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


def test_sha256_repository(make_repo: MakeRepo) -> None:
    repo = make_repo(files={"a.py": "A = 1\n", "b.py": "B = 1\n"}, object_format="sha256")
    old = repo.head
    repo.write("a.py", "A = 2\n")
    repo.rename("b.py", "c.py")
    new = repo.commit("edit")
    repo.write("a.py", "A = 3\n")
    with GitRepo(repo.root) as g:
        assert g.object_format == "sha256"
        assert len(g.resolve()) == 64
        files, _ = g.list_files(old)
        assert g.read(files[0]) == b"A = 1\n"
        assert [(c.status, c.path) for c in g.diff(old, new)] == [("M", "a.py"), ("R", "c.py")]
        entries, _, _ = g.worktree_overlay()
        assert entries[0].blob_sha == _hash_object(repo, "a.py")
        assert len(entries[0].blob_sha) == 64
        assert g.worktree_overlay(None)[0][0].path == "a.py"


def test_changes_to_never_indexed_files_are_not_deletions(repo: ScratchRepo) -> None:
    repo.write("config.pem", "---other key---\n")  # tracked secret, edited
    repo.write("staged.py", "S = 1\n")
    repo.git("add", "staged.py")  # staged-new, then replaced by a symlink
    repo.remove("staged.py")
    repo.symlink("staged.py", "src/app.py")
    with GitRepo(repo.root) as g:
        entries, deleted, skipped = g.worktree_overlay()
    assert entries == []
    assert deleted == []
    assert {(s.path, s.reason) for s in skipped} == {
        ("config.pem", "secret"),
        ("staged.py", "symlink"),
    }


def test_overlay_during_a_merge_conflict(repo: ScratchRepo) -> None:
    repo.branch("other")
    repo.write("src/app.py", "def main():\n    return 'other'\n")
    repo.commit("other side")
    repo.checkout("main")
    repo.write("src/app.py", "def main():\n    return 'main'\n")
    repo.commit("main side")
    with pytest.raises(RuntimeError, match="CONFLICT"):
        repo.git("merge", "-q", "other")
    with GitRepo(repo.root) as g:
        entries, deleted, _ = g.worktree_overlay()
        assert [e.path for e in entries] == ["src/app.py"]
        assert b"<<<<<<<" in g.read(entries[0])
        assert deleted == []
