"""LlamaIndex retriever over a c2rag code index: ``from llama_index.retrievers.c2rag import
C2RAGRetriever, C2RAGLocalizer``."""

from llama_index.retrievers.c2rag.base import C2RAGRetriever
from llama_index.retrievers.c2rag.localizer import C2RAGLocalizer

__all__ = ["C2RAGLocalizer", "C2RAGRetriever"]
