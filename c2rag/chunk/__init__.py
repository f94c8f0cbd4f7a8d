"""Function-level code chunks from tree-sitter, with names, lines and byte offsets.

``from c2rag.chunk import Chunker, chunk_file, FileChunks, CHUNKER_VERSION, detect_language``

Modules, in the order data flows through them: :mod:`~c2rag.chunk.languages` (what a file is),
:mod:`~c2rag.chunk.skip` (whether to chunk it), :mod:`~c2rag.chunk.symbols` and
:mod:`~c2rag.chunk.names` (definitions in its tree), :mod:`~c2rag.chunk.assemble` (symbols →
chunks, class skeletons, module remainder), :mod:`~c2rag.chunk.split` (token caps),
:mod:`~c2rag.chunk.fallback` (line windows), :mod:`~c2rag.chunk.policy` (what chunk
texts hold), :mod:`~c2rag.chunk.data` (data statements), :mod:`~c2rag.chunk.chunker` (the
entry point); :mod:`~c2rag.chunk.doc_comments` removes doc comments for ``c2rag eval``.
"""

from __future__ import annotations

from c2rag.chunk.chunker import CHUNKER_VERSION, Chunker, FileChunks, chunk_file
from c2rag.chunk.doc_comments import strip_doc_comments
from c2rag.chunk.languages import SPECS, detect_language, language_needs_content
from c2rag.chunk.metadata import chunk_metadata, source_path
from c2rag.chunk.policy import ChunkPolicy
from c2rag.chunk.skip import SKIP_REASONS
from c2rag.chunk.split import estimate_tokens

__all__ = [
    "CHUNKER_VERSION",
    "SKIP_REASONS",
    "SPECS",
    "ChunkPolicy",
    "Chunker",
    "FileChunks",
    "chunk_file",
    "chunk_metadata",
    "detect_language",
    "estimate_tokens",
    "language_needs_content",
    "source_path",
    "strip_doc_comments",
]
