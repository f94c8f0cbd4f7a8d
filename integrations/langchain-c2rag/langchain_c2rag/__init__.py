"""LangChain integration of c2rag.

``from langchain_c2rag import C2LLMEmbeddings, C2RAGRetriever, CodeSplitter``
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from c2rag._lazy import lazy_exports

# public name → submodule (imported on first use, so the embeddings do not pull in chromadb)
_LAZY: dict[str, str] = {
    "C2LLMEmbeddings": "langchain_c2rag.embeddings",
    "C2RAGRetriever": "langchain_c2rag.retrievers",
    "C2RAGCodeSplitter": "langchain_c2rag.text_splitter",
    "create_code_search_tool": "langchain_c2rag.tools",
    "create_localize_tool": "langchain_c2rag.localize",
}

__all__ = [
    "C2LLMEmbeddings",
    "C2RAGCodeSplitter",
    "C2RAGRetriever",
    "create_code_search_tool",
    "create_localize_tool",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


if TYPE_CHECKING:  # pragma: no cover
    from langchain_c2rag.embeddings import C2LLMEmbeddings
    from langchain_c2rag.localize import create_localize_tool
    from langchain_c2rag.retrievers import C2RAGRetriever
    from langchain_c2rag.text_splitter import C2RAGCodeSplitter
    from langchain_c2rag.tools import create_code_search_tool
