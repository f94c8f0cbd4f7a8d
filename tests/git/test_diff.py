"""GitRepo.diff on real histories, and the raw-diff parser on git's own output."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from c2rag.errors import GitError
from c2rag.git import Change, GitRepo, IgnoreRules
from c2rag.git.diff import classify, parse_raw_diff
from tests.fixtures.repos import ScratchRepo

MakeRepo = Callable[..., ScratchRepo]

BODY = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(20))


def _blob(repo: ScratchRepo, rev: str, path: str) -> str:
    return repo.git("rev-parse", f"{rev}:{path}").strip()


def _summary(changes: list[Change]) -> list[tuple[str, str, str | None]]:
    return sorted((c.status, c.path, c.old_path) for c in changes)


@pytest.fixture
def repo(make_repo: MakeRepo) -> ScratchRepo:
    return make_repo(
        files={
            "src/core.py": BODY,
            "src/util.py": "def helper():\n    return 1\n",
            "src/old_name.py": BODY.replace("return", "yield"),
            "src/gone.py": "X = 1\n",
            "README.md": "# project\n",
        }
    )


def test_edit_rename_rename_with_edit_delete_add(repo: ScratchRepo) -> None:
    old = repo.head
    repo.write("src/util.py", "def helper():\n    return 2\n")
    repo.rename("src/core.py", "src/engine/core.py")
    repo.rename("src/old_name.py", "src/new_name.py")
    renamed = repo.read("src/new_name.py").decode()
    repo.write("src/new_name.py", renamed + "def extra():\n    pass\n")
    repo.remove("src/gone.py")
    repo.write("src/added.py", "def added():\n    return 3\n")
    new = repo.commit("many changes")
    with GitRepo(repo.root) as g:
        changes = g.diff(old, new)
    assert _summary(changes) == [
        ("A", "src/added.py", None),
        ("D", "src/gone.py", None),
        ("M", "src/util.py", None),
        ("R", "src/engine/core.py", "src/core.py"),
        ("R", "src/new_name.py", "src/old_name.py"),
    ]
    by_path = {c.path: c for c in changes}
    pure = by_path["src/engine/core.py"]
    assert pure.similarity == 100
    assert not pure.content_changed  # re-label only, nothing to re-chunk
    edited = by_path["src/new_name.py"]
    assert edited.content_changed
    assert edited.similarity is not None and 50 <= edited.similarity < 100
    assert edited.old_blob == _blob(repo, old, "src/old_name.py")
    assert edited.new_blob == _blob(repo, new, "src/new_name.py")
    assert by_path["src/util.py"].old_blob == _blob(repo, old, "src/util.py")
    assert by_path["src/gone.py"].new_blob is None
    assert by_path["src/added.py"].old_blob is None
    assert by_path["src/added.py"].content_changed


def test_same_commit_and_reverse_direction(repo: ScratchRepo) -> None:
    old = repo.head
    repo.write("src/added.py", "Y = 2\n")
    new = repo.commit("add")
    with GitRepo(repo.root) as g:
        assert g.diff(old, old) == []
        assert _summary(g.diff(new, old)) == [("D", "src/added.py", None)]
        assert _summary(g.diff(old)) == [("A", "src/added.py", None)]  # new defaults to HEAD


def test_moving_into_and_out_of_ignored_places(repo: ScratchRepo) -> None:
    repo.write("secrets/.gitkeep", "")
    old = repo.commit("dir")
    repo.rename("src/core.py", "node_modules/core.py")  # built-in vendored
    repo.rename("src/util.py", "src/util.pem")  # built-in secret
    new = repo.commit("hide")
    with GitRepo(repo.root) as g:
        assert _summary(g.diff(old, new)) == [
            ("D", "src/core.py", None),
            ("D", "src/util.py", None),
        ]
        assert _summary(g.diff(new, old)) == [
            ("A", "src/core.py", None),
            ("A", "src/util.py", None),
        ]


def test_changes_inside_ignored_paths_are_dropped(repo: ScratchRepo) -> None:
    repo.write("dist/bundle.js", "a\n")
    repo.write(".env", "A=1\n")
    old = repo.commit("ignored")
    repo.write("dist/bundle.js", "b\n")
    repo.write(".env", "A=2\n")
    repo.rename("dist/bundle.js", "dist/bundle2.js")
    new = repo.commit("ignored edits")
    with GitRepo(repo.root) as g:
        assert g.diff(old, new) == []


def test_c2ragignore_change_reports_files_whose_status_flipped(repo: ScratchRepo) -> None:
    repo.write(".c2ragignore", "src/old_name.py\n")
    old = repo.commit("ignore one file")
    repo.write(".c2ragignore", "src/util.py\n")
    new = repo.commit("ignore another")
    with GitRepo(repo.root) as g:
        by_path = {c.path: c for c in g.diff(old, new)}
    assert {p: c.status for p, c in by_path.items()} == {
        ".c2ragignore": "M",
        "src/old_name.py": "A",  # no longer ignored
        "src/util.py": "D",  # newly ignored
    }
    assert by_path["src/old_name.py"].new_blob == _blob(repo, new, "src/old_name.py")
    assert by_path["src/util.py"].old_blob == _blob(repo, old, "src/util.py")


def test_file_replaced_by_symlink_or_submodule(repo: ScratchRepo, make_repo: MakeRepo) -> None:
    old = repo.head
    repo.remove("README.md")
    repo.symlink("README.md", "src/util.py")
    lib = make_repo("lib", files={"lib.py": "L = 1\n"})
    repo.git("rm", "-q", "src/gone.py")  # a tracked path must leave the index first
    repo.add_submodule("src/gone.py", lib)
    new = repo.commit("types changed")
    with GitRepo(repo.root) as g:
        assert _summary(g.diff(old, new)) == [
            ("A", ".gitmodules", None),
            ("D", "README.md", None),
            ("D", "src/gone.py", None),
        ]
        assert _summary(g.diff(new, old)) == [
            ("A", "README.md", None),
            ("A", "src/gone.py", None),
            ("D", ".gitmodules", None),
        ]


def test_mode_only_change_needs_no_reindex(repo: ScratchRepo) -> None:
    old = repo.head
    repo.path("src/util.py").chmod(0o755)
    new = repo.commit("chmod")
    with GitRepo(repo.root) as g:
        assert repo.git("diff", "--name-only", old, new).strip() == "src/util.py"
        assert g.diff(old, new) == []


def test_branch_switch_is_a_tree_diff(repo: ScratchRepo) -> None:
    base = repo.head
    repo.branch("feature")
    repo.write("src/feature.py", "F = 1\n")
    feature = repo.commit("feature work")
    repo.checkout("main")
    repo.write("src/util.py", "def helper():\n    return 99\n")
    main = repo.commit("main work")
    with GitRepo(repo.root) as g:
        assert _summary(g.diff(main, feature)) == [
            ("A", "src/feature.py", None),
            ("M", "src/util.py", None),
        ]
        assert _summary(g.diff(base, "feature")) == [("A", "src/feature.py", None)]


def test_odd_paths_survive_the_diff(repo: ScratchRepo) -> None:
    old = repo.head
    repo.rename("src/core.py", "dir with space/ünïcødé\tcore.py")
    repo.write("new\nline.py", "N = 1\n")
    repo.write(b"caf\xe9.py", b"C = 1\n")  # not UTF-8: never indexed, never reported
    new = repo.commit("odd names")
    with GitRepo(repo.root) as g:
        assert _summary(g.diff(old, new)) == [
            ("A", "new\nline.py", None),
            ("R", "dir with space/ünïcødé\tcore.py", "src/core.py"),
        ]


def test_unknown_ref_in_diff_names_it(repo: ScratchRepo) -> None:
    with GitRepo(repo.root) as g, pytest.raises(GitError, match="'nope'"):
        g.diff("nope", "HEAD")


# -- parser --------------------------------------------------------------------------------------


def test_parse_raw_diff_records() -> None:
    z = "0" * 40
    a, b = "a" * 40, "b" * 40
    data = (
        f":100644 100644 {a} {b} M\0m.py\0"
        f":000000 100644 {z} {b} A\0:starts-with-colon.py\0"
        f":100644 100644 {a} {b} R087\0old path.py\0new path.py\0"
        f":100644 000000 {a} {z} D\0gone.py\0"
    ).encode()
    raw = parse_raw_diff(data)
    assert [(r.status, r.score, r.old_path, r.new_path) for r in raw] == [
        ("M", None, b"m.py", b"m.py"),
        ("A", None, b":starts-with-colon.py", b":starts-with-colon.py"),
        ("R", 87, b"old path.py", b"new path.py"),
        ("D", None, b"gone.py", b"gone.py"),
    ]
    assert raw[1].old_blob is None and raw[1].new_blob == b
    assert raw[3].new_blob is None and raw[3].old_mode == 0o100644
    changes = classify(raw, IgnoreRules(), IgnoreRules())
    assert [c.status for c in changes] == ["M", "A", "R", "D"]
    assert changes[2] == Change("R", "new path.py", "old path.py", a, b, 87)


def test_parse_raw_diff_copy_keeps_source() -> None:
    a = "a" * 40
    raw = parse_raw_diff(f":100644 100644 {a} {a} C100\0src.py\0copy.py\0".encode())
    assert classify(raw, IgnoreRules(), IgnoreRules()) == [Change("A", "copy.py", None, None, a)]


@pytest.mark.parametrize(
    "data",
    [
        b"M\0path\0",  # --name-status, not --raw
        b":100644 100644 abc def\0path\0",  # no status
        b":100644 100644 " + b"a" * 40 + b" " + b"b" * 40 + b" R090\0only-one-path\0",
    ],
)
def test_parse_raw_diff_rejects_other_shapes(data: bytes) -> None:
    with pytest.raises(GitError, match="git diff --raw"):
        parse_raw_diff(data)


def test_parse_raw_diff_empty() -> None:
    assert parse_raw_diff(b"") == []
