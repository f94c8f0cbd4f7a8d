"""Localization through its front ends: the CLI, the MCP tool, the LangChain tool and the
LlamaIndex localizer, on the indexed sample repository."""

from __future__ import annotations

import json

import anyio
from click.testing import CliRunner
from langchain_c2rag import create_localize_tool
from langchain_core.tools import BaseTool
from llama_index.core.schema import NodeWithScore
from llama_index.retrievers.c2rag import C2RAGLocalizer
from mcp import Client

from c2rag.cli import cli
from c2rag.mcp_server import RepoTools, build_server
from c2rag.types import Citation

JS_REPORT = (
    "Profile page is blank\n\nError: profile request failed: 500\n"
    "    at fetchUserProfile (https://app.example.com/web/src/api.ts:12:11)\n"
    "    at async ProfilePage (https://app.example.com/web/src/pages/profile.tsx:30:5)"
)
PROSE_REPORT = (
    "Cache grows past its capacity\n\nAfter many LRUCache.put calls the cache holds more "
    "entries than its capacity; the least recently used ones should be evicted."
)


def _args(index) -> list[str]:
    return [str(index.root), "--store", str(index.store_dir), "--model", str(index.model_dir)]


def test_cli_localize_text_file_and_json(codeqa_index, tmp_path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["localize", *_args(codeqa_index), "--text", JS_REPORT, "-k", "2"])
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    assert first.startswith("1. web/src/api.ts") and "frame" in first
    assert "fetchUserProfile" in result.stdout
    report = tmp_path / "issue.md"
    report.write_text(PROSE_REPORT, encoding="utf-8")
    args = ["localize", *_args(codeqa_index), "--file", str(report), "--json", "-k", "3"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)
    assert len(files) == 3 and files[0]["path"] == "src/cache/lru.py"
    symbol = files[0]["symbols"][0]
    assert Citation.parse(symbol["citation"]).path == "src/cache/lru.py"
    assert files[0]["evidence"][0]["source"] in {"dense", "lexical", "symbol"}
    stdin = runner.invoke(cli, ["localize", *_args(codeqa_index), "--file", "-"], input=JS_REPORT)
    assert stdin.exit_code == 0 and stdin.stdout.startswith("1. web/src/api.ts")


def test_cli_localize_bad_input(codeqa_index) -> None:
    runner = CliRunner()
    both = runner.invoke(cli, ["localize", *_args(codeqa_index), "--text", "x", "--file", "-"])
    assert both.exit_code == 2 and "exactly one of --text or --file" in both.output
    empty = runner.invoke(cli, ["localize", *_args(codeqa_index), "--text", "  "])
    assert empty.exit_code == 1 and "empty text" in empty.output


def test_mcp_localize_tool_is_read_only_and_structured(codeqa_index) -> None:
    tools = RepoTools(
        codeqa_index.root, model=str(codeqa_index.model_dir), store_dir=codeqa_index.store_dir
    )

    async def session() -> None:
        async with Client(build_server(tools)) as client:
            listed = {t.name: t for t in (await client.list_tools()).tools}
            annotations = listed["localize"].annotations
            assert annotations is not None and annotations.read_only_hint
            result = await client.call_tool("localize", {"text": JS_REPORT, "k": 2})
            assert not result.is_error, result.content
            data = result.structured_content
            assert data["files"][0]["path"] == "web/src/api.ts"
            top = data["files"][0]["symbols"][0]
            assert top["name"].endswith("fetchUserProfile")
            assert any("frame" in e for e in top["evidence"])
            assert any("profile.tsx" in f for f in data["frames_outside_repository"])
            bad = await client.call_tool("localize", {"text": " "})
            assert bad.is_error and "empty text" in bad.content[0].text

    try:
        anyio.run(session)
    finally:
        tools.retriever().close()
        tools.repo.close()


def test_langchain_localize_tool(codeqa_retriever) -> None:
    tool = create_localize_tool(codeqa_retriever, k=2)
    assert isinstance(tool, BaseTool) and tool.name == "localize_code"
    answer = tool.invoke({"text": PROSE_REPORT})
    assert answer.splitlines()[0].startswith("1. src/cache/lru.py")
    only_web = tool.invoke({"text": PROSE_REPORT, "path_glob": "web/**"})
    assert only_web.startswith("1. web/src/api.ts") and "src/cache" not in only_web


def test_llamaindex_localizer(codeqa_retriever) -> None:
    localizer = C2RAGLocalizer(codeqa_retriever, k=2, symbols_per_file=2)
    nodes = localizer.retrieve(JS_REPORT)
    assert nodes and all(isinstance(n, NodeWithScore) for n in nodes)
    meta = nodes[0].node.metadata
    assert (meta["path"], meta["file_rank"]) == ("web/src/api.ts", 1)
    assert "fetchUserProfile" in nodes[0].node.get_content()
    assert [n.node.metadata["file_rank"] for n in nodes] == sorted(
        n.node.metadata["file_rank"] for n in nodes
    )
    assert localizer.localize(JS_REPORT).files[0].path == "web/src/api.ts"
