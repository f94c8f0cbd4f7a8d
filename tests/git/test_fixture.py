"""The make_repo fixture others build on: branch name, local identity, reproducible shas."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.fixtures.repos import ScratchRepo, init_repo

MakeRepo = Callable[..., ScratchRepo]


def test_new_repo_is_on_main_with_local_identity(make_repo: MakeRepo) -> None:
    repo = make_repo(files={"a.py": "a\n"})
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() == "main"
    assert repo.git("config", "--local", "user.email").strip() == "tests@c2rag.invalid"
    assert repo.git("log", "--format=%an|%s").strip() == "c2rag tests|initial"
    assert repo.git("status", "--porcelain") == ""


def test_without_files_the_repo_has_no_commits(make_repo: MakeRepo) -> None:
    repo = make_repo()
    assert (repo.root / ".git").is_dir()
    assert repo.git("rev-list", "--all") == ""


def test_shas_are_reproducible(tmp_path: Path) -> None:
    shas = []
    for name in ("one", "two"):
        repo = init_repo(tmp_path / name, files={"a.py": "a\n"})
        repo.write("b.py", "b\n")
        shas.append((repo.head, repo.commit("second")))
    assert shas[0] == shas[1]


def test_edit_helpers_and_history(make_repo: MakeRepo) -> None:
    repo = make_repo(files={"a.py": "a\n", "d/x.py": "x\n"})
    first = repo.head
    repo.rename("a.py", "b/a.py")
    repo.remove("d")
    second = repo.commit("move and delete")
    assert repo.git("ls-tree", "-r", "--name-only", "HEAD").split() == ["b/a.py"]
    repo.branch("topic")  # creates and switches
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() == "topic"
    repo.branch("parked", checkout=False, start=first)
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() == "topic"
    assert repo.git("rev-parse", "parked").strip() == first
    repo.checkout("main")
    assert repo.head == second
    assert repo.detach(first) == first
    assert repo.git("rev-parse", "--abbrev-ref", "HEAD").strip() == "HEAD"


def test_clone_and_shallow_clone(make_repo: MakeRepo, tmp_path: Path) -> None:
    origin = make_repo(files={"a.py": "a\n"})
    origin.write("a.py", "b\n")
    origin.commit("second")
    full = origin.clone(tmp_path / "full")
    shallow = origin.clone_shallow(tmp_path / "shallow")
    assert full.git("rev-list", "--count", "HEAD").strip() == "2"
    assert shallow.git("rev-list", "--count", "HEAD").strip() == "1"
    assert shallow.git("rev-parse", "--is-shallow-repository").strip() == "true"
    assert shallow.head == origin.head
