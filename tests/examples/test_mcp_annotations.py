"""`c2rag mcp` over stdio: server version, tool annotations, unknown filter values refused."""

from __future__ import annotations

import anyio

import c2rag
from tests.examples.test_mcp import server
from tests.fixtures.codeqa import CODEQA_FILES


def test_version_annotations_and_unknown_filter_values(
    make_repo, minilm_encoder, minilm_dir, tmp_path
):
    from mcp import Client

    from c2rag.index import CodeIndex

    repo = make_repo(files=CODEQA_FILES)
    store = tmp_path / "store"
    CodeIndex(repo.root, encoder=minilm_encoder, store_dir=store).update()

    async def session() -> None:
        async with Client(server(repo.root, store, minilm_dir)) as client:
            assert client.server_info is not None
            assert (client.server_info.name, client.server_info.version) == (
                "c2rag",
                c2rag.__version__,
            )
            tools = {t.name: t.annotations for t in (await client.list_tools()).tools}
            assert all(a is not None and a.read_only_hint for a in tools.values())
            assert tools["open_chunk"].idempotent_hint and tools["index_status"].idempotent_hint
            assert tools["search_code"].idempotent_hint is False  # follow_up keeps a session

            wrong_branch = await client.call_tool("search_code", {"query": "x", "branch": "nope"})
            assert wrong_branch.is_error
            assert "branch 'nope' is not indexed (indexed: main)" in wrong_branch.content[0].text
            wrong_language = await client.call_tool(
                "search_code", {"query": "upload", "languages": ["cobol"]}
            )
            assert wrong_language.is_error
            message = wrong_language.content[0].text
            assert "['cobol']" in message and "python, typescript" in message
            fine = await client.call_tool("search_code", {"query": "upload", "branch": "main"})
            assert not fine.is_error

    anyio.run(session)
