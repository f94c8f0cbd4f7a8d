"""LangChain retriever over a c2rag code index."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, PrivateAttr

from c2rag.org.search import MultiRepoRetriever
from c2rag.retrieve import CodeRetriever
from c2rag.retrieve.metadata import hit_metadata
from c2rag.retrieve.settings import RetrieverSettings

__all__ = ["C2RAGRetriever"]


class C2RAGRetriever(BaseRetriever):
    """Hybrid code search (C2LLM dense + BM25 + symbols) as a LangChain retriever.

    Each document's ``page_content`` is a chunk of code; its metadata carries the path, line
    range, qualified name, kind, language, commit, scores and the citation
    ``path:start-end@sha``.

    Every option of ``c2rag search`` is a keyword: ``repo_path``, ``model``, ``store_dir``,
    ``chroma_host``, ``chroma_port``, ``branch``, ``filters``, ``k``, ``budget_tokens``,
    ``neighbours``; they are kept in :attr:`settings`, so ``model_dump_json()`` /
    ``model_validate_json()`` round-trip the retriever and the index is opened on first use.

    Example:
        >>> from langchain_c2rag import C2RAGRetriever
        >>> retriever = C2RAGRetriever.from_path(".", k=5, branch="main")
        >>> docs = retriever.invoke("where do we retry failed uploads?")
        >>> docs[0].metadata["citation"]
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    settings: RetrieverSettings = Field(default_factory=RetrieverSettings)
    """Where the index is and how to search it
    (:class:`c2rag.retrieve.settings.RetrieverSettings`)."""
    code_retriever: CodeRetriever | MultiRepoRetriever | None = Field(
        default=None, exclude=True, repr=False
    )
    """An already open :class:`c2rag.CodeRetriever` (or, for several repositories, a
    :class:`c2rag.org.search.MultiRepoRetriever`) to use instead of opening one from
    :attr:`settings`."""

    _opened: CodeRetriever | None = PrivateAttr(default=None)

    def __init__(self, **kwargs: Any) -> None:
        own = set(type(self).model_fields)
        flat = {key: kwargs.pop(key) for key in list(kwargs) if key not in own}
        if flat:  # c2rag search options given one by one
            base = kwargs.pop("settings", None) or RetrieverSettings()
            kwargs["settings"] = RetrieverSettings.build(**{**base.to_dict(), **flat})
        super().__init__(**kwargs)

    @classmethod
    def from_path(cls, repo_path: str = ".", **options: Any) -> C2RAGRetriever:
        """A retriever on the index of the repository at ``repo_path`` (``c2rag index``).

        Args:
            repo_path: A path inside the indexed git work tree.
            **options: ``model``, ``store_dir``, ``chroma_host``, ``chroma_port``, ``branch``,
                ``filters``, ``k``, ``budget_tokens``, ``neighbours``.

        Raises:
            ValueError: For an unknown option (the valid ones are listed).
        """
        return cls(repo_path=str(repo_path), **options)

    @property
    def retriever(self) -> CodeRetriever | MultiRepoRetriever:
        """The c2rag retriever doing the work (opened from :attr:`settings` on first use)."""
        if self.code_retriever is not None:
            return self.code_retriever
        if self._opened is None:
            self._opened = self.settings.open()
        return self._opened

    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        state["__pydantic_private__"] = {**(state["__pydantic_private__"] or {}), "_opened": None}
        return state

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
        return [
            Document(page_content=hit.chunk.text, metadata=hit_metadata(hit), id=hit.id)
            for hit in self.settings.search(self.retriever, query)
        ]
