"""LlamaIndex retriever over a c2rag code index."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from c2rag.org.search import MultiRepoRetriever
from c2rag.retrieve import CodeRetriever
from c2rag.retrieve.metadata import hit_metadata
from c2rag.retrieve.settings import RetrieverSettings

__all__ = ["C2RAGRetriever"]

# The LLM sees what it needs to read and cite the code; ids, byte offsets, hashes, flags and
# per-channel scores only help programs. Everything else is hidden, new fields included.
_FOR_LLM = {"citation", "path", "start_line", "end_line", "name", "kind", "language", "signature"}


class C2RAGRetriever(BaseRetriever):
    """Hybrid code search (C2LLM dense + BM25 + symbols) returning scored nodes.

    Args:
        retriever: An open :class:`c2rag.retrieve.CodeRetriever`; ``None`` opens the index
            described by the settings on first use.
        settings: Where the index is and how to search it
            (:class:`c2rag.retrieve.settings.RetrieverSettings`).
        callback_manager: LlamaIndex callbacks.
        **options: Settings one by one, as ``c2rag search`` takes them: ``repo_path``,
            ``model``, ``store_dir``, ``chroma_host``, ``chroma_port``, ``branch``, ``filters``,
            ``k``, ``budget_tokens``, ``neighbours``.

    Raises:
        ValueError: For an unknown option or a bad value (named in the message).

    Example:
        >>> from llama_index.retrievers.c2rag import C2RAGRetriever
        >>> retriever = C2RAGRetriever.from_path(".", k=5, branch="main")
        >>> nodes = retriever.retrieve("where is the config parsed?")
        >>> nodes[0].node.metadata["citation"]
        >>> C2RAGRetriever.from_dict(retriever.to_dict())  # the same search, reopened
    """

    def __init__(
        self,
        retriever: CodeRetriever | MultiRepoRetriever | None = None,
        *,
        settings: RetrieverSettings | None = None,
        callback_manager: CallbackManager | None = None,
        **options: Any,
    ) -> None:
        settings = settings or RetrieverSettings()
        if options:
            settings = RetrieverSettings.build(**{**settings.to_dict(), **options})
        self.settings = settings
        self._retriever = retriever
        super().__init__(callback_manager=callback_manager)

    @classmethod
    def from_path(cls, repo_path: str = ".", **options: Any) -> C2RAGRetriever:
        """A retriever on the index of the repository at ``repo_path`` (``c2rag index``),
        opened on first use; ``options`` as for the class."""
        return cls(repo_path=str(repo_path), **options)

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON-able values."""
        return self.settings.to_dict()

    @classmethod
    def from_dict(cls, data: dict[str, Any], **kwargs: Any) -> C2RAGRetriever:
        return cls(settings=RetrieverSettings.from_dict(data), **kwargs)

    @property
    def retriever(self) -> CodeRetriever | MultiRepoRetriever:
        """The c2rag retriever doing the work."""
        if self._retriever is None:
            self._retriever = self.settings.open()
        return self._retriever

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
        nodes = []
        for hit in self.settings.search(self.retriever, query_bundle.query_str):
            metadata = hit_metadata(hit)
            # where the same code also is, when it is somewhere else: an edit may be due there
            shown = _FOR_LLM | ({"copies"} if hit.copies else set())
            hidden = sorted(set(metadata) - shown)
            node = TextNode(
                id_=hit.id,
                text=hit.chunk.text,
                metadata=metadata,
                excluded_embed_metadata_keys=hidden,
                excluded_llm_metadata_keys=hidden,
            )
            nodes.append(NodeWithScore(node=node, score=hit.score))
        return nodes
