"""LlamaIndex retriever over a c2rag code index: ``from llama_index.retrievers.c2rag import
C2RAGRetriever``."""

from llama_index.retrievers.c2rag.base import C2RAGRetriever

__all__ = ["C2RAGRetriever"]
