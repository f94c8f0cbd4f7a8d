"""Hybrid multi-turn code retrieval: dense + BM25 + symbol channels, fused; sessions.

``from c2rag.retrieve import CodeRetriever, CodeQASession``
"""

from __future__ import annotations

from c2rag.retrieve.filters import SearchFilters
from c2rag.retrieve.fusion import FusionWeights, weighted_rrf
from c2rag.retrieve.retriever import CodeRetriever, SearchResult
from c2rag.retrieve.session import CodeQASession, SessionTurn

__all__ = [
    "CodeQASession",
    "CodeRetriever",
    "FusionWeights",
    "SearchFilters",
    "SearchResult",
    "SessionTurn",
    "weighted_rrf",
]
