"""Weighted reciprocal-rank fusion of the dense, lexical and symbol channels.

Equal-weight RRF of BM25 and dense retrieval usually does *worse* than dense alone on
natural-language questions (−0.09 MRR on CoSQA in our baselines): BM25's ranking of prose
queries is noisy and gets as many votes as the embedding. So the channels are weighted, and
the lexical and symbol channels get their larger say only when the query carries code
identifiers — which is exactly when exact matching beats an embedding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["CHANNELS", "Fused", "FusionWeights", "weighted_rrf"]

CHANNELS = ("dense", "lexical", "symbol")


@dataclass(frozen=True)
class FusionWeights:
    """How much each channel's ranking counts, for prose queries and for queries that name
    code (identifiers, qualified names, paths).

    The prose weights were tuned on docstring→function queries (the CodeSearchNet
    construction) over two installed packages, ``click`` and ``jinja2``, that the benchmark
    does not report on; see ``benchmarks/retrieval_quality.py`` for what they give elsewhere.

    Attributes:
        prose: Channel weights when the query names no identifier.
        code: Channel weights when it does.
        k: The RRF constant: larger flattens the difference between ranks.
        depth: Only the first ``depth`` results of each channel vote.
    """

    prose: Mapping[str, float] = field(
        default_factory=lambda: {"dense": 1.0, "lexical": 0.25, "symbol": 0.1}
    )
    code: Mapping[str, float] = field(
        default_factory=lambda: {"dense": 1.0, "lexical": 0.6, "symbol": 1.0}
    )
    k: float = 10.0
    depth: int = 20

    def __post_init__(self) -> None:
        for label, weights in (("prose", self.prose), ("code", self.code)):
            unknown = set(weights) - set(CHANNELS)
            negative = [c for c, w in weights.items() if w < 0]
            if unknown or negative:
                msg = (
                    f"FusionWeights.{label}={dict(weights)!r}: channels must be among "
                    f"{CHANNELS} with weights >= 0"
                )
                raise ValueError(msg)
        if self.k <= 0 or self.depth <= 0:
            msg = f"FusionWeights: k ({self.k}) and depth ({self.depth}) must be positive"
            raise ValueError(msg)

    def for_query(self, *, has_identifiers: bool) -> Mapping[str, float]:
        """The weights to use for one query."""
        return self.code if has_identifiers else self.prose

    @classmethod
    def only(cls, channel: str) -> FusionWeights:
        """Weights that keep a single channel (for measuring channels alone)."""
        weights = {c: float(c == channel) for c in CHANNELS}
        return cls(prose=weights, code=weights)


@dataclass(frozen=True, slots=True)
class Fused:
    """One fused result: its id, fused score, and the raw score from each channel."""

    id: str
    score: float
    channels: dict[str, float]


def weighted_rrf(
    rankings: Mapping[str, Sequence[tuple[str, float]]],
    weights: Mapping[str, float],
    *,
    k: float = 10.0,
    depth: int | None = None,
) -> list[Fused]:
    """Fuse ranked lists: ``score(d) = Σ_c weights[c] / (k + rank_c(d))``, ranks from 1.

    Args:
        rankings: Per channel, ``(id, score)`` pairs best first.
        weights: Per channel weight; a channel absent or weighted 0 does not vote (its raw
            scores are still reported in :attr:`Fused.channels`).
        k: RRF constant.
        depth: Only the first ``depth`` items of each ranking vote (all when ``None``).

    Returns:
        Fused results, best first; ties broken by the best single-channel rank, then id.
    """
    scores: dict[str, float] = {}
    raw: dict[str, dict[str, float]] = {}
    best_rank: dict[str, int] = {}
    for channel, ranking in rankings.items():
        weight = weights.get(channel, 0.0)
        for rank, (cid, value) in enumerate(ranking, start=1):
            raw.setdefault(cid, {})[channel] = value
            if weight <= 0 or (depth is not None and rank > depth):
                continue
            scores[cid] = scores.get(cid, 0.0) + weight / (k + rank)
            best_rank[cid] = min(best_rank.get(cid, rank), rank)
    order = sorted(scores, key=lambda c: (-scores[c], best_rank[c], c))
    return [Fused(cid, scores[cid], raw[cid]) for cid in order]
