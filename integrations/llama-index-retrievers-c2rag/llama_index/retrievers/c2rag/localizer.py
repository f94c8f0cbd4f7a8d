"""LlamaIndex retriever that localizes a bug report: files ranked, functions within them."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from c2rag.retrieve import CodeRetriever
from c2rag.retrieve.localize import Localization

__all__ = ["C2RAGLocalizer"]

_HIDDEN = ["file_evidence", "evidence", "citations", "file_score", "score"]


class C2RAGLocalizer(BaseRetriever):
    """The files a report (issue, stack trace, log) points at, as nodes: one per function,
    grouped by file in file order, best file first.

    Each node's text is the function's code; its metadata carries ``path``, ``file_rank``
    (1 = most likely file), ``file_score``, ``name``, ``kind``, ``citation``
    (``path:start-end@sha``), and the ``evidence`` for the function and its file.
    :meth:`localize` returns the structured :class:`c2rag.retrieve.localize.Localization`.

    Args:
        retriever: An open :class:`c2rag.retrieve.CodeRetriever`.
        k: How many files.
        symbols_per_file: Functions per file.
        filters: Path globs, languages, kinds, branch (see ``c2rag.retrieve.SearchFilters``).
        callback_manager: LlamaIndex callbacks.

    Example:
        >>> from llama_index.retrievers.c2rag import C2RAGLocalizer
        >>> nodes = C2RAGLocalizer.from_path(".").retrieve(open("issue.md").read())
        >>> nodes[0].node.metadata["path"], nodes[0].node.metadata["citation"]
    """

    def __init__(
        self,
        retriever: CodeRetriever,
        *,
        k: int = 5,
        symbols_per_file: int = 3,
        filters: dict[str, Any] | None = None,
        callback_manager: CallbackManager | None = None,
    ) -> None:
        if k < 1:
            msg = f"k must be at least 1, got {k}"
            raise ValueError(msg)
        self._retriever = retriever
        self._k = k
        self._symbols_per_file = symbols_per_file
        self._filters = filters
        super().__init__(callback_manager=callback_manager)

    @classmethod
    def from_path(
        cls, repo_path: str, *, model: str | None = None, **kwargs: Any
    ) -> C2RAGLocalizer:
        """Open the index of a repository (built with ``c2rag index``)."""
        return cls(CodeRetriever.from_path(repo_path, model=model), **kwargs)

    def localize(self, text: str) -> Localization:
        """The structured answer: files with their functions and evidence."""
        return self._retriever.localize(
            text, k=self._k, filters=self._filters, symbols_per_file=self._symbols_per_file
        )

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        result = self.localize(query_bundle.query_str)
        nodes = []
        for rank, file in enumerate(result.files, 1):
            for symbol in file.symbols:
                metadata = {
                    "path": file.path,
                    "file_rank": rank,
                    "file_score": file.score,
                    "name": symbol.name,
                    "kind": symbol.kind,
                    "start_line": symbol.start_line,
                    "end_line": symbol.end_line,
                    "citation": str(symbol.citation),
                    "citations": [str(c) for c in symbol.citations],
                    "commit": file.commit,
                    "score": symbol.score,
                    "evidence": [str(e) for e in symbol.evidence],
                    "file_evidence": [str(e) for e in file.evidence],
                }
                node = TextNode(
                    id_=str(symbol.citation),
                    text=symbol.text,
                    metadata=metadata,
                    excluded_embed_metadata_keys=_HIDDEN,
                    excluded_llm_metadata_keys=_HIDDEN,
                )
                nodes.append(NodeWithScore(node=node, score=symbol.score))
        return nodes
