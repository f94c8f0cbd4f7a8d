"""A hit as flat, JSON-ready metadata: what LangChain documents, LlamaIndex nodes and
``c2rag search --json`` carry."""

from __future__ import annotations

from typing import Any

from c2rag.types import Hit, chunk_metadata

__all__ = ["hit_metadata"]


def hit_metadata(hit: Hit) -> dict[str, Any]:
    """Every field of a hit except the text, plus its citation string.

    Values are scalars (str, int, float) except ``channels`` and ``contributions`` (dicts of
    per-channel raw scores and shares of the fused score); ``members`` is the comma-joined ids
    of the symbol's other chunks that ranked (collapsed into this hit), and ``copies`` the
    comma-joined citations of the same code in other files. So the result serialises to JSON
    and fits vector-store metadata after dropping the two dicts.
    """
    return {
        "id": hit.id,
        "citation": str(hit.citation),
        **chunk_metadata(hit.chunk),
        "commit": hit.commit,
        "blob_sha": hit.blob_sha,
        "score": hit.score,
        "channels": dict(hit.channels),
        "contributions": dict(hit.contributions),
        "members": ",".join(hit.members),
        "copies": ",".join(str(c) for c in hit.copies),
    }
