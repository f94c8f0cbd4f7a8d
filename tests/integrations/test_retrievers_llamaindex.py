"""LlamaIndex C2RAGRetriever on a real index."""

from __future__ import annotations

import json

import pytest
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import MetadataMode, NodeWithScore
from llama_index.retrievers.c2rag import C2RAGRetriever


def test_nodes_with_scores_and_citations(codeqa_retriever) -> None:
    retriever = C2RAGRetriever(codeqa_retriever, k=3)
    assert isinstance(retriever, BaseRetriever)
    nodes = retriever.retrieve("merge configuration dictionaries recursively")
    assert len(nodes) == 3 and all(isinstance(n, NodeWithScore) for n in nodes)
    assert nodes[0].score >= nodes[1].score >= nodes[2].score > 0
    top = nodes[0].node
    assert top.metadata["name"].endswith("merge_dicts")
    assert top.node_id == top.metadata["id"]
    assert top.metadata["citation"].startswith("src/config/loader.py:")
    llm_view = top.get_content(metadata_mode=MetadataMode.LLM)
    assert "citation: src/config/loader.py:" in llm_view and "channels" not in llm_view
    assert "copies" not in llm_view  # shown only where the code is also somewhere else


def test_filters_neighbours_and_validation(codeqa_retriever) -> None:
    nodes = C2RAGRetriever(codeqa_retriever, k=1, neighbours=2).retrieve("retry_with_backoff")
    assert len(nodes) == 3
    kinds = C2RAGRetriever(codeqa_retriever, k=5, filters={"kinds": ["class"]}).retrieve("cache")
    assert kinds and {n.node.metadata["kind"] for n in kinds} == {"class"}
    with pytest.raises(ValueError, match="k must be at least 1"):
        C2RAGRetriever(codeqa_retriever, k=0)


def test_async_retrieve(codeqa_retriever) -> None:
    import asyncio

    nodes = asyncio.run(C2RAGRetriever(codeqa_retriever, k=1).aretrieve("hash a password"))
    assert nodes[0].node.metadata["name"].endswith("hash_password")


def test_from_path_options_and_dict_round_trip(codeqa_index) -> None:
    retriever = C2RAGRetriever.from_path(
        codeqa_index.root,
        store_dir=codeqa_index.store_dir,
        branch="main",
        filters={"kinds": ["function"]},
        k=3,
    )
    nodes = retriever.retrieve("merge configuration dictionaries recursively")
    assert nodes and {n.node.metadata["kind"] for n in nodes} == {"function"}
    restored = C2RAGRetriever.from_dict(json.loads(json.dumps(retriever.to_dict())))
    assert restored.settings == retriever.settings
    again = restored.retrieve("merge configuration dictionaries recursively")
    assert [n.node.node_id for n in again] == [n.node.node_id for n in nodes]
    with pytest.raises(ValueError, match="unknown filter"):
        C2RAGRetriever.from_path(codeqa_index.root, filters={"language": ["python"]})


def test_llm_and_embedder_see_no_internal_metadata(codeqa_retriever) -> None:
    [hit] = C2RAGRetriever(codeqa_retriever, k=1).retrieve("hash a password")
    for mode in (MetadataMode.LLM, MetadataMode.EMBED):
        view = hit.node.get_content(metadata_mode=mode)
        for key in ("start_byte", "end_byte", "part", "flags", "content_hash", "blob_sha"):
            assert f"{key}:" not in view
    assert "citation: src/users/accounts.py:" in hit.node.get_content(
        metadata_mode=MetadataMode.LLM
    )
