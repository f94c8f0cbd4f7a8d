"""GitRepo on real repositories: opening, refs, listing files from git objects, reading."""

from __future__ import annotations

import gc
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from c2rag.errors import GitError
from c2rag.git import FileEntry, GitRepo, Skipped, blob_sha
from tests.fixtures.repos import ScratchRepo

MakeRepo = Callable[..., ScratchRepo]


def _paths(entries: list[FileEntry]) -> list[str]:
    return [e.path for e in entries]


def _reasons(skipped: list[Skipped]) -> dict[str, str]:
    return {s.path: s.reason for s in skipped}


# -- opening ------------------------------------------------------------------------------------


def test_not_a_repository_names_the_path(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitError, match=r"plain.*not inside a git work tree"):
        GitRepo(plain)


def test_missing_path_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(GitError, match=r"nowhere.*does not exist"):
        GitRepo(tmp_path / "nowhere")


def test_file_path_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(GitError, match=r"file.txt.*not a directory"):
        GitRepo(f)


def test_bare_repository_is_refused(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "b.git")], check=True)
    with pytest.raises(GitError, match=r"b.git.*not inside a git work tree"):
        GitRepo(tmp_path / "b.git")


def test_subdirectory_opens_the_top_level(make_repo: MakeRepo) -> None:
    repo = make_repo(files={"pkg/sub/mod.py": "x = 1\n"})
    with GitRepo(repo.root / "pkg" / "sub") as g:
        assert g.root == repo.root.resolve()
        assert _paths(g.list_files()[0]) == ["pkg/sub/mod.py"]


# -- refs ---------------------------------------------------------------------------------------


def test_resolve_branch_tag_prefix_and_relative(make_repo: MakeRepo) -> None:
    repo = make_repo(files={"a.py": "a = 1\n"})
    first = repo.head
    second = repo.commit("second", allow_empty=True)
    repo.tag("v1", first)
    with GitRepo(repo.root) as g:
        assert g.resolve() == second
        assert g.resolve("main") == second
        assert g.resolve("v1") == first
        assert g.resolve(first[:10]) == first
        assert g.resolve("HEAD~1") == first
        assert len(g.resolve()) == 40
        assert g.commit_exists("v1")
        assert not g.commit_exists("no-such-branch")


@pytest.mark.parametrize("ref", ["no-such-branch", "deadbeef" * 5, "--all", ""])
def test_unknown_ref_names_it(make_repo: MakeRepo, ref: str) -> None:
    repo = make_repo(files={"a.py": "a = 1\n"})
    with GitRepo(repo.root) as g, pytest.raises(GitError, match=repr(ref).replace("-", r"\-")):
        g.resolve(ref)


def test_tree_sha_is_not_a_commit(make_repo: MakeRepo) -> None:
    repo = make_repo(files={"a.py": "a = 1\n"})
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    with GitRepo(repo.root) as g, pytest.raises(GitError, match=tree):
        g.list_files(tree)


def test_empty_repository(make_repo: MakeRepo) -> None:
    repo = make_repo()
    with GitRepo(repo.root) as g:
        assert not g.has_commits()
        assert g.current_branch() == "main"
        assert not g.is_shallow()
        with pytest.raises(GitError, match="has no commits yet"):
            g.resolve()
        with pytest.raises(GitError, match="has no commits yet"):
            g.list_files()


def test_branches_and_detached_head(make_repo: MakeRepo) -> None:
    repo = make_repo(files={"a.py": "a = 1\n"})
    first = repo.head
    repo.branch("feature/x")
    repo.write("b.py", "b = 1\n")
    feature = repo.commit("on feature")
    with GitRepo(repo.root) as g:
        assert g.current_branch() == "feature/x"
        assert _paths(g.list_files("main")[0]) == ["a.py"]
        assert _paths(g.list_files("feature/x")[0]) == ["a.py", "b.py"]
        repo.detach(first)
        assert g.current_branch() is None
        assert g.resolve() == first
        assert _paths(g.list_files()[0]) == ["a.py"]
        assert g.resolve("feature/x") == feature


def test_shallow_clone(make_repo: MakeRepo, tmp_path: Path) -> None:
    origin = make_repo("origin", files={"a.py": "a = 1\n"})
    old = origin.head
    origin.write("a.py", "a = 2\n")
    origin.commit("second")
    clone = origin.clone_shallow(tmp_path / "shallow")
    with GitRepo(clone.root) as g:
        assert g.is_shallow()
        assert g.current_branch() == "main"
        files, _ = g.list_files()
        assert g.read(files[0]) == b"a = 2\n"
        assert not g.commit_exists(old)
        with pytest.raises(GitError, match=old):
            g.diff(old, "HEAD")
    with GitRepo(origin.root) as g:
        assert not g.is_shallow()


# -- listing ------------------------------------------------------------------------------------


def test_list_files_applies_gitignore_builtins_and_c2ragignore(make_repo: MakeRepo) -> None:
    repo = make_repo(
        files={
            ".gitignore": "*.log\nlocal/\n",
            ".c2ragignore": "docs/\n!docs/keep.md\n",
            "src/app.py": "def main():\n    pass\n",
            "docs/guide.md": "# guide\n",
            "docs/keep.md": "# keep\n",
            "config/.env": "TOKEN=abc\n",
            ".env.example": "TOKEN=\n",
            "deploy/server.pem": "-----BEGIN-----\n",
            "web/node_modules/lib/index.js": "module.exports = 1\n",
            "static/app.min.js": "var a=1;\n",
        }
    )
    # ignored by .gitignore: never committed, so never listed
    repo.write("debug.log", "noise\n")
    repo.write("local/notes.py", "x = 1\n")
    repo.commit("ignored files stay out", allow_empty=True)
    with GitRepo(repo.root) as g:
        files, skipped = g.list_files()
    assert _paths(files) == [
        ".c2ragignore",
        ".env.example",
        ".gitignore",
        "docs/keep.md",
        "src/app.py",
    ]
    assert _reasons(skipped) == {
        "config/.env": "secret",
        "deploy/server.pem": "secret",
        "docs/guide.md": "c2ragignore",
        "static/app.min.js": "generated",
        "web/node_modules/lib/index.js": "vendored",
    }
    assert Skipped("docs/guide.md", "c2ragignore", "docs/") in skipped


def test_c2ragignore_is_read_from_the_commit_not_the_worktree(make_repo: MakeRepo) -> None:
    repo = make_repo(files={"a.py": "a\n", "gen/b.py": "b\n", ".c2ragignore": "gen/\n"})
    first = repo.head
    repo.write(".c2ragignore", "a.py\n")  # uncommitted: list_files must not see it
    with GitRepo(repo.root) as g:
        assert _paths(g.list_files()[0]) == [".c2ragignore", "a.py"]
        repo.commit("ignore a.py instead")
        assert _paths(g.list_files()[0]) == [".c2ragignore", "gen/b.py"]
        assert _paths(g.list_files(first)[0]) == [".c2ragignore", "a.py"]


def test_builtin_excludes_can_be_turned_off(make_repo: MakeRepo) -> None:
    repo = make_repo(files={"a.pem": "k\n", "vendor/x.go": "package x\n"})
    with GitRepo(repo.root, builtin_excludes=False) as g:
        assert _paths(g.list_files()[0]) == ["a.pem", "vendor/x.go"]


def test_entries_carry_blob_sha_mode_and_size(make_repo: MakeRepo) -> None:
    repo = make_repo(files={"run.sh": "#!/bin/sh\necho hi\n", "lib.py": "x = 1\n"})
    repo.path("run.sh").chmod(0o755)
    repo.commit("executable")
    with GitRepo(repo.root) as g:
        by_path = {e.path: e for e in g.list_files()[0]}
    run = by_path["run.sh"]
    assert run.mode == 0o100755
    assert by_path["lib.py"].mode == 0o100644
    assert run.size == len(b"#!/bin/sh\necho hi\n")
    assert run.source == "commit"
    assert run.blob_sha == repo.git("rev-parse", "HEAD:run.sh").strip()
    assert run.blob_sha == blob_sha(b"#!/bin/sh\necho hi\n")


def test_submodule_and_symlink_are_skipped_with_reasons(make_repo: MakeRepo) -> None:
    lib = make_repo("lib", files={"lib.py": "def f():\n    return 1\n"})
    repo = make_repo(files={"main.py": "import lib\n"})
    repo.add_submodule("ext/lib", lib)
    repo.symlink("alias.py", "main.py")
    repo.symlink("dangling.py", "missing/target.py")
    repo.commit("submodule and links")
    with GitRepo(repo.root) as g:
        files, skipped = g.list_files()
    assert _paths(files) == [".gitmodules", "main.py"]
    reasons = _reasons(skipped)
    assert reasons == {"alias.py": "symlink", "dangling.py": "symlink", "ext/lib": "submodule"}
    sub = next(s for s in skipped if s.path == "ext/lib")
    assert sub.detail == f"commit {lib.head}"


def test_binary_and_non_utf8_content_are_listed_and_read_verbatim(make_repo: MakeRepo) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    latin1 = "# café\nname = 'Müller'\n".encode("latin-1")
    repo = make_repo(files={"img/logo.png": png, "legacy.py": latin1, "crlf.txt": b"a\r\nb\r\n"})
    with GitRepo(repo.root) as g:
        by_path = {e.path: e for e in g.list_files()[0]}
        assert g.read(by_path["img/logo.png"]) == png
        assert g.read(by_path["legacy.py"]) == latin1
        assert g.read(by_path["crlf.txt"]) == b"a\r\nb\r\n"
        assert by_path["img/logo.png"].size == len(png)


def test_paths_with_spaces_unicode_and_odd_characters(make_repo: MakeRepo) -> None:
    names = [
        "my dir/file with spaces.py",
        "données/résumé.py",
        "日本語/コード.py",
        'quote"d.py',
        "tab\tname.py",
        "new\nline.py",
        "-dash.py",
        ":colon.py",
    ]
    repo = make_repo(files={n: f"# {i}\n" for i, n in enumerate(names)})
    with GitRepo(repo.root) as g:
        files, skipped = g.list_files()
        assert skipped == []
        assert sorted(_paths(files)) == sorted(names)
        for entry in files:
            assert g.read(entry) == f"# {names.index(entry.path)}\n".encode()


def test_non_utf8_file_name_is_skipped(make_repo: MakeRepo) -> None:
    repo = make_repo(files={b"caf\xe9.py": b"x = 1\n", "ok.py": "y = 2\n"})
    with GitRepo(repo.root) as g:
        files, skipped = g.list_files()
    assert _paths(files) == ["ok.py"]
    assert skipped == [Skipped("caf\\xe9.py", "non_utf8_path")]


def test_read_many_blobs_through_one_process(make_repo: MakeRepo) -> None:
    contents = {
        f"pkg/m{i:03d}.py": f"def f{i}():\n    return {i}\n" * (i % 7 + 1) for i in range(300)
    }
    repo = make_repo(files=contents)
    with GitRepo(repo.root) as g:
        files, _ = g.list_files()
        assert {e.path: g.read(e).decode() for e in files} == contents
        proc = g._cat._proc
        assert proc is not None and proc.poll() is None
    assert proc.poll() is not None  # context exit ended it
    assert g.read(files[0]) == contents[files[0].path].encode()  # restarts on demand
    g.close()


def test_missing_blob_is_a_git_error(make_repo: MakeRepo) -> None:
    repo = make_repo(files={"a.py": "a\n"})
    ghost = FileEntry("ghost.py", "0123456789abcdef0123456789abcdef01234567", 0o100644, 3)
    with GitRepo(repo.root) as g, pytest.raises(GitError, match=r"0123456789abcdef.*ghost.py"):
        g.read(ghost)


def test_listing_does_not_touch_the_worktree_or_index(make_repo: MakeRepo) -> None:
    repo = make_repo(files={"a.py": "a\n"})
    repo.write("a.py", "edited\n")
    repo.write("new.py", "n\n")
    before = repo.git("status", "--porcelain")
    index_bytes = (repo.root / ".git" / "index").read_bytes()
    with GitRepo(repo.root) as g:
        g.list_files()
        g.worktree_overlay()
    assert repo.git("status", "--porcelain") == before
    assert (repo.root / ".git" / "index").read_bytes() == index_bytes
    assert repo.read("a.py") == b"edited\n"


def test_cat_file_process_restarts_after_dying(make_repo: MakeRepo) -> None:
    repo = make_repo(files={"a.py": "A = 1\n"})
    with GitRepo(repo.root) as g:
        entry = g.list_files()[0][0]
        assert g.read(entry) == b"A = 1\n"
        first = g._cat._proc
        assert first is not None
        first.kill()
        first.wait()
        assert g.read(entry) == b"A = 1\n"
        assert g._cat._proc is not first


def test_dropping_the_repo_ends_its_process(make_repo: MakeRepo) -> None:
    repo = make_repo(files={"a.py": "A = 1\n"})
    g = GitRepo(repo.root)
    g.read(g.list_files()[0][0])
    proc = g._cat._proc
    assert proc is not None and proc.poll() is None
    del g
    gc.collect()
    assert proc.poll() is not None


def test_linked_worktree(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo(files={"a.py": "A = 1\n"})
    repo.git("worktree", "add", "-q", "-b", "side", str(tmp_path / "side"))
    (tmp_path / "side" / "b.py").write_text("B = 1\n")
    with GitRepo(tmp_path / "side") as g:
        assert (g.root / ".git").is_file()
        assert g.current_branch() == "side"
        assert [e.path for e in g.list_files()[0]] == ["a.py"]
        assert [e.path for e in g.worktree_overlay()[0]] == ["b.py"]
