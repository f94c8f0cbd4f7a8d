"""c2rag: the right code from a repository, for coding agents.

git → chunks → embeddings → store → retrieval → packed context.

Heavy dependencies (torch, transformers, chromadb) are imported on first use of the name
that needs them, so ``import c2rag`` and the CLI start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from c2rag._lazy import lazy_exports
from c2rag.errors import (
    C2RAGError,
    CheckpointMismatchError,
    ChunkingError,
    GitError,
    IndexLockedError,
    IndexMismatchError,
    IndexNotFoundError,
    ModelLoadError,
)
from c2rag.types import Chunk, Citation, Embedder, Hit

__version__ = "0.1.0"

# public name → module that defines it (imported lazily)
_LAZY: dict[str, str] = {
    "Encoder": "c2rag.encode.engine",
    "C2LLMConfig": "c2rag.encode.c2llm",
    "C2LLMModel": "c2rag.encode.c2llm",
    "TASK_PROMPTS": "c2rag.encode.prompts",
    "Chunker": "c2rag.chunk",
    "chunk_file": "c2rag.chunk",
    "CodeIndex": "c2rag.index",
    "CodeRetriever": "c2rag.retrieve",
    "CodeQASession": "c2rag.retrieve",
    "PackedContext": "c2rag.context",
    "pack_context": "c2rag.context",
}

__all__ = [
    "TASK_PROMPTS",
    "C2LLMConfig",
    "C2LLMModel",
    "C2RAGError",
    "CheckpointMismatchError",
    "Chunk",
    "Chunker",
    "ChunkingError",
    "Citation",
    "CodeIndex",
    "CodeQASession",
    "CodeRetriever",
    "Embedder",
    "Encoder",
    "GitError",
    "Hit",
    "IndexLockedError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "ModelLoadError",
    "PackedContext",
    "__version__",
    "chunk_file",
    "pack_context",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from c2rag.chunk import Chunker, chunk_file
    from c2rag.context import PackedContext, pack_context
    from c2rag.encode.c2llm import C2LLMConfig, C2LLMModel
    from c2rag.encode.engine import Encoder
    from c2rag.encode.prompts import TASK_PROMPTS
    from c2rag.index import CodeIndex
    from c2rag.retrieve import CodeQASession, CodeRetriever
