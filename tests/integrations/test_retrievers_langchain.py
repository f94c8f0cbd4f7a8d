"""LangChain C2RAGRetriever and the code search tool on a real index."""

from __future__ import annotations

import pytest
from langchain_c2rag import C2RAGRetriever, create_code_search_tool
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import BaseTool


def test_retriever_documents_carry_metadata_and_citation(codeqa_retriever) -> None:
    retriever = C2RAGRetriever(code_retriever=codeqa_retriever, k=3)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("derive a salted password hash")
    assert len(docs) == 3 and all(isinstance(d, Document) for d in docs)
    top = docs[0]
    meta = top.metadata
    assert meta["name"].endswith("hash_password") and top.id == meta["id"]
    assert "pbkdf2_hmac" in top.page_content
    assert meta["citation"] == (
        f"src/users/accounts.py:{meta['start_line']}-{meta['end_line']}@{meta['commit'][:12]}"
    )
    for key in ("path", "language", "kind", "signature", "blob_sha", "score", "channels"):
        assert key in meta


def test_retriever_filters_and_validation(codeqa_retriever) -> None:
    retriever = C2RAGRetriever(code_retriever=codeqa_retriever, k=5, filters={"paths": ["web/**"]})
    docs = retriever.invoke("display name of a user")
    assert docs and {d.metadata["path"] for d in docs} == {"web/src/api.ts"}
    with pytest.raises(ValueError, match="k"):
        C2RAGRetriever(code_retriever=codeqa_retriever, k=0)
    with pytest.raises(ValueError, match="top_k"):
        C2RAGRetriever(code_retriever=codeqa_retriever, top_k=3)


async def _ainvoke(retriever: C2RAGRetriever, query: str) -> list[Document]:
    return await retriever.ainvoke(query)


def test_async_invoke(codeqa_retriever) -> None:
    import asyncio

    retriever = C2RAGRetriever(code_retriever=codeqa_retriever, k=2)
    docs = asyncio.run(_ainvoke(retriever, "LRUCache.evict"))
    assert docs[0].metadata["name"].endswith("evict")


def test_code_search_tool_keeps_a_conversation(codeqa_retriever) -> None:
    tool = create_code_search_tool(codeqa_retriever, k=4, budget_tokens=1200)
    assert isinstance(tool, BaseTool) and tool.name == "code_search"
    assert set(tool.args) == {"query", "path_glob", "language"}
    first = tool.invoke({"query": "where do we retry failed uploads?"})
    assert "### src/storage/upload.py:" in first and "```python" in first
    again = tool.invoke({"query": "where do we retry failed uploads?"})
    assert "Already in context above (not repeated):" in again
    only_ts = tool.invoke({"query": "user profile", "language": "typescript"})
    assert "web/src/api.ts" in only_ts and "src/storage" not in only_ts
    none = tool.invoke({"query": "upload", "path_glob": "does/not/exist/**"})
    assert none == "No matching code found."


def test_from_path_takes_the_cli_options_and_round_trips_as_json(codeqa_index) -> None:
    retriever = C2RAGRetriever.from_path(
        codeqa_index.root,
        store_dir=str(codeqa_index.store_dir),
        branch="main",
        filters={"languages": ["python"]},
        k=4,
        budget_tokens=150,
    )
    docs = retriever.invoke("where do we retry failed uploads?")
    assert docs and all(d.metadata["language"] == "python" for d in docs)
    assert len(docs) < 4  # the budget keeps only what fits
    assert docs[0].metadata["path"] == "src/storage/upload.py"
    restored = C2RAGRetriever.model_validate_json(retriever.model_dump_json())
    assert restored.settings == retriever.settings
    assert restored.settings.filters.branch == "main"
    assert [d.id for d in restored.invoke("where do we retry failed uploads?")] == [
        d.id for d in docs
    ]
    with pytest.raises(ValueError, match="chroma_hots"):
        C2RAGRetriever.from_path(codeqa_index.root, chroma_hots="localhost")


def test_agent_loop_survives_an_empty_query(codeqa_retriever) -> None:
    """A tool-calling loop with LangChain's fake chat model: a bad call is answered, not fatal."""
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

    tool = create_code_search_tool(codeqa_retriever, k=3, budget_tokens=800)
    calls = [
        {"name": "code_search", "args": {"query": "  "}, "id": "call-1"},
        {"name": "code_search", "args": {"query": "where do we retry uploads?"}, "id": "call-2"},
    ]
    model = GenericFakeChatModel(
        messages=iter([AIMessage("", tool_calls=[call]) for call in calls] + [AIMessage("done")])
    )
    messages: list = [HumanMessage("How are uploads retried?")]
    while True:
        reply = model.invoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            break
        messages += [tool.invoke(call) for call in reply.tool_calls]
    results = [m for m in messages if isinstance(m, ToolMessage)]
    assert [m.status for m in results] == ["error", "success"]
    assert "empty query" in results[0].content
    assert "src/storage/upload.py:" in results[1].content
    assert messages[-1].content == "done"
