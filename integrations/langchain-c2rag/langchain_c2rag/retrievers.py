"""LangChain retriever over a c2rag code index."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from c2rag.org.search import MultiRepoRetriever
from c2rag.retrieve import CodeRetriever
from c2rag.retrieve.metadata import hit_metadata

__all__ = ["C2RAGRetriever"]


class C2RAGRetriever(BaseRetriever):
    """Hybrid code search (C2LLM dense + BM25 + symbols) as a LangChain retriever.

    Each document's ``page_content`` is a chunk of code; its metadata carries the path, line
    range, qualified name, kind, language, commit, scores and the citation
    ``path:start-end@sha``.

    Example:
        >>> from langchain_c2rag import C2RAGRetriever
        >>> retriever = C2RAGRetriever.from_path(".", k=5)
        >>> docs = retriever.invoke("where do we retry failed uploads?")
        >>> docs[0].metadata["citation"]
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    code_retriever: CodeRetriever | MultiRepoRetriever
    """The c2rag retriever doing the work (several repositories: citations name each)."""
    k: int = Field(default=8, ge=1)
    """How many documents to return."""
    filters: dict[str, Any] | None = None
    """Path globs, languages, kinds, branch (see ``c2rag.retrieve.SearchFilters``)."""
    neighbours: int = Field(default=0, ge=0)
    """Also return up to this many callees/callers of the top hit."""

    @classmethod
    def from_path(
        cls, repo_path: str, *, model: str | None = None, **kwargs: Any
    ) -> C2RAGRetriever:
        """Open the index of a repository (built with ``c2rag index``)."""
        return cls(code_retriever=CodeRetriever.from_path(repo_path, model=model), **kwargs)

    @classmethod
    def from_paths(
        cls,
        repo_paths: list[str],
        *,
        model: str | None = None,
        store_dir: str | None = None,
        **kwargs: Any,
    ) -> C2RAGRetriever:
        """Search several repositories indexed together (``c2rag index A B ...``); each
        citation is ``repo:path:start-end@sha``."""
        multi = MultiRepoRetriever.from_paths(repo_paths, model=model, store_dir=store_dir)
        return cls(code_retriever=multi, **kwargs)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        hits = self.code_retriever.search(
            query, k=self.k, filters=self.filters, neighbours=self.neighbours
        )
        return [
            Document(page_content=hit.chunk.text, metadata=hit_metadata(hit), id=hit.id)
            for hit in hits
        ]
