"""Packing retrieved code into a token budget with stable citations.

``from c2rag.context import pack_context, PackedContext``
"""

from __future__ import annotations

from c2rag.context.model import Dropped, Freshness, PackedContext, Reference, Snippet
from c2rag.context.pack import estimate_tokens, pack_context

__all__ = [
    "Dropped",
    "Freshness",
    "PackedContext",
    "Reference",
    "Snippet",
    "estimate_tokens",
    "pack_context",
]
