"""`c2rag mcp` driven by the official MCP client over stdio, as an IDE agent drives it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from c2rag.types import Citation
from tests.examples.support import subprocess_pythonpath
from tests.fixtures.codeqa import CODEQA_FILES


def server(root: Path, store: Path, model: Path | None = None) -> StdioServerParameters:
    args = ["-m", "c2rag", "mcp", str(root), "--store", str(store)]
    if model is not None:
        args += ["--model", str(model)]
    env = {"PYTHONPATH": subprocess_pythonpath(), "HF_HUB_OFFLINE": "1"}
    return StdioServerParameters(command=sys.executable, args=args, env=env, cwd=str(root))


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


@pytest.fixture
def indexed(make_repo, minilm_encoder, minilm_dir, tmp_path):
    """A repository the test may edit, indexed with MiniLM into its own store."""
    from c2rag.index import CodeIndex

    repo = make_repo(files=CODEQA_FILES)
    store = tmp_path / "store"
    CodeIndex(repo.root, encoder=minilm_encoder, store_dir=store).update()
    return repo, store, minilm_dir


def test_search_follow_up_open_and_status_over_stdio(indexed):
    repo, store, model = indexed

    async def session() -> None:
        async with Client(server(repo.root, store, model)) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            assert tools == {"search_code", "open_chunk", "index_status", "localize"}

            found = await call(client, "search_code", query="Where are failed uploads retried?")
            assert not found["follow_up"] and found["already_given"] == []
            by_symbol = {s: snip for snip in found["snippets"] for s in snip["symbols"]}
            retry = by_symbol["storage.upload.retry_with_backoff"]
            assert retry["stale"] is False
            cited = Citation.parse(retry["citation"])
            lines = repo.read(cited.path).decode().splitlines()
            assert retry["text"] == "\n".join(lines[cited.start_line - 1 : cited.end_line])

            again = await call(client, "search_code", query="And who calls it?", follow_up=True)
            assert again["follow_up"]
            assert retry["citation"] in again["already_given"]
            returned = {s for snip in again["snippets"] for s in snip["symbols"]}
            assert returned.isdisjoint(by_symbol)  # nothing shown twice

            only_ts = await call(client, "search_code", query="upload", languages=["typescript"])
            assert {s["language"] for s in only_ts["snippets"]} == {"typescript"}
            assert (await call(client, "search_code", query="upload", paths=["*.go"]))[
                "snippets"
            ] == []

            opened = await call(client, "open_chunk", citation=retry["citation"])
            assert (opened["status"], opened["text"]) == ("unchanged", retry["text"])

            # An edit above the function moves it; an edit inside changes it.
            source = repo.read(cited.path).decode()
            repo.write(cited.path, "# moved down\n" + source)
            moved = await call(client, "open_chunk", citation=retry["citation"])
            assert (moved["status"], moved["start_line"]) == ("moved", cited.start_line + 1)
            repo.write(cited.path, source.replace("base_delay * 2**attempt", "base_delay"))
            changed = await call(client, "open_chunk", citation=retry["citation"], context_lines=1)
            assert changed["status"] == "changed" and changed["changed_since"]
            assert "2**attempt" in changed["cited_text"] and "2**attempt" not in changed["text"]

            status = await call(client, "index_status")
            assert status["up_to_date"] and status["chunks"] > 10
            repo.commit("no more exponential backoff")
            status = await call(client, "index_status")
            assert not status["up_to_date"] and status["files_changed"] == [cited.path]

            bad = await client.call_tool("open_chunk", {"citation": "src/nowhere.py:1-2"})
            assert bad.is_error and "path:start-end@sha" in bad.content[0].text

    anyio.run(session)


def test_missing_index_is_reported_to_the_agent(make_repo, tmp_path):
    repo = make_repo(files={"app.py": "def main():\n    return 0\n"})

    async def session() -> None:
        async with Client(server(repo.root, tmp_path / "empty-store")) as client:
            result = await client.call_tool("search_code", {"query": "entry point"})
            assert result.is_error
            assert "c2rag index" in result.content[0].text

    anyio.run(session)
