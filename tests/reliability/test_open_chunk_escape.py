"""open_chunk never serves bytes from outside the repository (issue #10, item 1), and rejects
impossible line ranges (item 8): through RepoTools.open and through the MCP stdio client."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from c2rag.citations import open_citation
from c2rag.errors import UnsafePathError
from c2rag.git import GitRepo
from c2rag.mcp_server import RepoTools
from c2rag.types import Citation
from tests.examples.support import subprocess_pythonpath

MARKER = "tok_MARKER_5f1e0c"
NOTES = "".join(f"{i}\n" for i in range(1, 6))


def _escape_repo(make_repo, how: str, target: str, path: str = "docs/notes.txt"):
    """A repo whose commit A has ``path`` and whose commit B replaces the file
    (``how='file'``) or its directory (``how='dir'``) by a symlink to ``target``."""
    repo = make_repo(files={path: NOTES, "app.py": "X = 1\n"})
    first = repo.head
    swapped = path if how == "file" else path.split("/", 1)[0]
    repo.remove(swapped)
    repo.symlink(swapped, target)
    repo.commit("swap for a symlink")
    return repo, first


# (what is swapped, link target, cited path): the parent-dir cases name a file that exists
# under the target, so following the link would serve it.
CASES = [
    ("file", "/proc/self/environ", "docs/notes.txt"),
    ("file", "/etc/passwd", "docs/notes.txt"),
    ("dir", "/proc/self", "docs/environ"),
    ("dir", "/etc", "docs/passwd"),
]


@pytest.mark.parametrize(("how", "target", "path"), CASES)
def test_repo_tools_refuse_a_symlinked_file_or_parent(make_repo, monkeypatch, how, target, path):
    monkeypatch.setenv("SECRET_TOKEN", MARKER)
    repo, first = _escape_repo(make_repo, how, target, path)
    with pytest.raises(UnsafePathError, match="symbolic link") as err:
        RepoTools(repo.root).open(f"{path}:1-2@{first}")
    assert MARKER not in str(err.value) and "root:" not in str(err.value)


def test_a_symlink_that_stays_inside_the_repo_is_refused_too(make_repo):
    repo = make_repo(files={"a.txt": NOTES, "b.txt": "other\n"})
    first = repo.head
    repo.remove("a.txt")
    repo.symlink("a.txt", "b.txt")
    with pytest.raises(UnsafePathError):
        open_citation(GitRepo(repo.root), f"a.txt:1-1@{first}")


def test_a_regular_file_still_opens(make_repo):
    repo = make_repo(files={"docs/notes.txt": NOTES})
    opened = RepoTools(repo.root).open(f"docs/notes.txt:2-3@{repo.head}")
    assert (opened.status, opened.text) == ("unchanged", "2\n3")


@pytest.mark.parametrize("lines", ["0-0", "0-3", "5-1", "-1-2"])
def test_impossible_ranges_are_rejected(make_repo, lines):
    repo = make_repo(files={"docs/notes.txt": NOTES})
    with pytest.raises(ValueError, match=r"(impossible line range|not a citation)"):
        RepoTools(repo.root).open(f"docs/notes.txt:{lines}@{repo.head}")


def _server(root: Path, env: dict[str, str]) -> StdioServerParameters:
    args = ["-m", "c2rag", "mcp", str(root), "--store", str(root.parent / "no-store")]
    env = {"PYTHONPATH": subprocess_pythonpath(), "HF_HUB_OFFLINE": "1", **env}
    return StdioServerParameters(command=sys.executable, args=args, env=env, cwd=str(root))


def test_mcp_open_chunk_refuses_escapes_and_bad_ranges(make_repo):
    repo, first = _escape_repo(make_repo, "file", "/proc/self/environ")
    repo.write("etc/passwd", NOTES)
    before_dir = repo.commit("a directory to swap")
    repo.remove("etc")
    repo.symlink("etc", "/etc")
    repo.commit("etc is now a link")
    assert (repo.root / "etc").is_symlink()
    texts: list[str] = []

    async def session() -> None:
        async with Client(_server(repo.root, {"SECRET_TOKEN": MARKER})) as client:
            for citation in (
                f"docs/notes.txt:1-1@{first}",
                f"etc/passwd:1-1@{before_dir}",
            ):
                result = await client.call_tool("open_chunk", {"citation": citation})
                assert result.is_error, result
                text = " ".join(getattr(c, "text", "") for c in result.content)
                assert "symbolic link" in text
                texts.append(text)
            for bad in ("0-0", "5-1"):
                citation = str(Citation("app.py", 1, 1, first)).replace("1-1", bad)
                result = await client.call_tool("open_chunk", {"citation": citation})
                assert result.is_error and result.structured_content is None
                assert "impossible line range" in " ".join(
                    getattr(c, "text", "") for c in result.content
                )

    anyio.run(session)
    assert all(MARKER not in t and "root:x:" not in t for t in texts)
