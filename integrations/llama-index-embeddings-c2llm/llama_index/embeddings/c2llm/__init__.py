"""LlamaIndex embedding integration for C2LLM (native loader, no remote code)."""

from llama_index.embeddings.c2llm.base import C2LLMEmbedding

__all__ = ["C2LLMEmbedding"]
