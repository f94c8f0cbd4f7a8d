"""LlamaIndex node parser for code: function-level tree-sitter chunks from c2rag.

``from llama_index.node_parser.c2rag import C2RAGNodeParser``
"""

from __future__ import annotations

from llama_index.node_parser.c2rag.base import C2RAGNodeParser

__all__ = ["C2RAGNodeParser"]
