"""LlamaIndex retriever over a c2rag code index."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from c2rag.org.search import MultiRepoRetriever
from c2rag.retrieve import CodeRetriever
from c2rag.retrieve.metadata import hit_metadata

__all__ = ["C2RAGRetriever"]

# Large or nested fields stay out of the text the LLM sees and out of embeddings.
_HIDDEN = ["id", "channels", "content_hash", "blob_sha", "docstring", "score"]


class C2RAGRetriever(BaseRetriever):
    """Hybrid code search (C2LLM dense + BM25 + symbols) returning scored nodes.

    Args:
        retriever: An open :class:`c2rag.retrieve.CodeRetriever`.
        k: How many nodes to return.
        filters: Path globs, languages, kinds, branch (see ``c2rag.retrieve.SearchFilters``).
        neighbours: Also return up to this many callees/callers of the top hit.
        callback_manager: LlamaIndex callbacks.

    Example:
        >>> from llama_index.retrievers.c2rag import C2RAGRetriever
        >>> nodes = C2RAGRetriever.from_path(".").retrieve("where is the config parsed?")
        >>> nodes[0].node.metadata["citation"]
    """

    def __init__(
        self,
        retriever: CodeRetriever | MultiRepoRetriever,
        *,
        k: int = 8,
        filters: dict[str, Any] | None = None,
        neighbours: int = 0,
        callback_manager: CallbackManager | None = None,
    ) -> None:
        if k < 1:
            msg = f"k must be at least 1, got {k}"
            raise ValueError(msg)
        self._retriever = retriever
        self._k = k
        self._filters = filters
        self._neighbours = neighbours
        super().__init__(callback_manager=callback_manager)

    @classmethod
    def from_path(
        cls, repo_path: str, *, model: str | None = None, **kwargs: Any
    ) -> C2RAGRetriever:
        """Open the index of a repository (built with ``c2rag index``)."""
        return cls(CodeRetriever.from_path(repo_path, model=model), **kwargs)

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
        return cls(
            MultiRepoRetriever.from_paths(repo_paths, model=model, store_dir=store_dir), **kwargs
        )

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self._retriever.search(
            query_bundle.query_str, k=self._k, filters=self._filters, neighbours=self._neighbours
        )
        nodes = []
        for hit in hits:
            node = TextNode(
                id_=hit.id,
                text=hit.chunk.text,
                metadata=hit_metadata(hit),
                excluded_embed_metadata_keys=_HIDDEN,
                excluded_llm_metadata_keys=_HIDDEN,
            )
            nodes.append(NodeWithScore(node=node, score=hit.score))
        return nodes
