"""LangChain document transformer: source files → one Document per function-level chunk."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from langchain_core.documents import BaseDocumentTransformer, Document

from c2rag.chunk import Chunker, chunk_metadata, source_path
from c2rag.chunk.metadata import DEFAULT_PATH_KEYS

__all__ = ["C2RAGCodeSplitter"]

logger = logging.getLogger(__name__)


class C2RAGCodeSplitter(BaseDocumentTransformer):
    """Split code Documents into functions, methods, class skeletons and module chunks.

    Each input Document must name its file in its metadata (``source``, ``file_path``,
    ``path`` or ``file_name``): the extension picks the grammar. Each output Document carries
    the input's metadata plus every chunk field (``name``, ``kind``, ``start_line``,
    ``end_line``, ``signature``, ``parent``, ``part``/``parts``, …), and an ``id`` stable for
    the same file and bytes. Files the chunker skips (binary, generated, lock files) yield none.

    Args:
        chunker: A configured :class:`c2rag.chunk.Chunker`; built from the options below when
            omitted.
        count_tokens: Token counter of the embedding model (``C2LLMEmbeddings``'s encoder's
            ``count_tokens``); a cheap estimate when omitted.
        max_tokens: Target chunk size in tokens.
        hard_max_tokens: Size no chunk exceeds (the model's max length).
        root: Repository root; paths under it are made relative.
        path_keys: Metadata keys searched for the file path, in order.

    Example:
        >>> from langchain_core.documents import Document
        >>> doc = Document("def f():\\n    return 1\\n", metadata={"source": "pkg/m.py"})
        >>> [d.metadata["name"] for d in C2RAGCodeSplitter().split_documents([doc])]
        ['pkg.m.f']
    """

    def __init__(
        self,
        *,
        chunker: Chunker | None = None,
        count_tokens: Callable[[str], int] | None = None,
        max_tokens: int = 512,
        hard_max_tokens: int | None = None,
        root: str | os.PathLike[str] | None = None,
        path_keys: Sequence[str] = DEFAULT_PATH_KEYS,
    ) -> None:
        self.chunker = chunker or Chunker(
            count_tokens=count_tokens, max_tokens=max_tokens, hard_max_tokens=hard_max_tokens
        )
        self.root = root
        self.path_keys = tuple(path_keys)

    def split_documents(self, documents: Iterable[Document]) -> list[Document]:
        """One Document per chunk of each input Document, in input order."""
        out: list[Document] = []
        for document in documents:
            path = source_path(document.metadata, keys=self.path_keys, root=self.root)
            fc = self.chunker.chunk(path, document.page_content.encode("utf-8"))
            if fc.skipped:
                logger.info("%s: skipped (%s)", path, fc.skipped)
            for chunk in fc.chunks:
                metadata = {**document.metadata, **chunk_metadata(chunk)}
                chunk_id = f"{path}:{chunk.start_byte}-{chunk.end_byte}:{chunk.kind}:{chunk.part}"
                out.append(Document(page_content=chunk.text, metadata=metadata, id=chunk_id))
        return out

    def transform_documents(self, documents: Sequence[Document], **kwargs: Any) -> list[Document]:
        """Same as :meth:`split_documents` (the DocumentTransformer interface)."""
        return self.split_documents(documents)

    def split_text(self, text: str, *, path: str) -> list[str]:
        """Chunk texts of one file's ``text``, named by ``path`` (the extension matters)."""
        return [c.text for c in self.chunker.chunk(path, text.encode("utf-8")).chunks]
