"""Fusing the dense, lexical and symbol channels, adapted to the evidence of each query.

No fixed weight set wins everywhere: BM25's ranking of a short web question is noise that
drags dense down (equal-weight RRF loses 0.08 MRR@10 to dense alone on CoSQA), while on a
docstring or a question that names code, BM25 finds what the embedding blurs. Rank-only RRF
cannot tell the two apart: it gives BM25's first result the same vote whether its score
towers over the rest (an exact identifier) or barely beats the hundredth.

:func:`adaptive_fuse` therefore mixes ranks with scores and sets the lexical channel's say
per query, from evidence the channels already computed:

* each channel's score, min–max normalised over its own candidate list (a convex combination
  of normalised scores beats RRF when the scores carry information; Bruch et al., 2023,
  "An Analysis of Fusion Functions for Hybrid Retrieval"), blended with its reciprocal rank;
* the lexical weight grows with **agreement** (the share of BM25's top 10 that dense also
  ranks in its top 10: when they agree, BM25 is ranking the same kind of thing) and with how
  **identifier-like** the question is (names of code make up much of it);
* the symbol channel votes only for names written as code (``get_user``, ``Foo.bar``,
  ``src/x.py``), so an English word that happens to name a function does not.

Every fused result reports each channel's contribution to its score. The cost is linear in
the candidates (a few hundred ids): well under a millisecond in pure Python.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "CHANNELS",
    "Fused",
    "FusionWeights",
    "QueryEvidence",
    "adaptive_fuse",
    "fuse",
    "weighted_rrf",
]

CHANNELS = ("dense", "lexical", "symbol", "dense_latest", "hint")
"""``dense_latest`` is the last question embedded alone, a second dense ranking used for a
conversation (the dialogue's embedding drifts towards earlier turns); ``hint`` is a session's
ranking of the code around what a follow-up refers back to."""

# Top-n lists compared for the agreement between dense and lexical.
_AGREEMENT_TOP = 10


@dataclass(frozen=True)
class QueryEvidence:
    """What is known about a query before fusing, besides the channels' rankings.

    Attributes:
        identifier_share: Share of the question's content words that are code names
            (:func:`c2rag.retrieve.channels.identifier_share`).
        multi_turn: Whether the query is a conversation.
        has_identifiers: Whether the question is mostly about named code (selects the
            ``code`` weights of the non-adaptive mode).
        hinted: Whether a session passed a hint ranking (the code around what a follow-up
            refers back to).
    """

    identifier_share: float = 0.0
    multi_turn: bool = False
    has_identifiers: bool = False
    hinted: bool = False


@dataclass(frozen=True)
class FusionWeights:
    """How the channels are fused.

    ``adaptive=True`` (the default) selects :func:`adaptive_fuse` with the parameters below;
    ``adaptive=False`` is plain weighted RRF with the ``prose``/``code`` weight sets (kept for
    baselines such as naive RRF and single channels).

    The adaptive parameters were tuned on a declared tuning group (half of CoSQA dev, the
    first half of CoSQL dev's dialogues, docstring→function queries of ``click``, ``jinja2``,
    ``joblib`` and ``tornado``, the whole repositories of ``click`` and ``jinja2``, the
    ``requests`` conversations) and are reported on the rest; see
    ``benchmarks/fusion_tuning.py`` and ``benchmarks/retrieval_quality.py``.

    Attributes:
        prose: RRF channel weights for a question that names no code (``adaptive=False``).
        code: RRF channel weights for a question about named code (``adaptive=False``).
        k: The RRF constant: larger flattens the difference between ranks.
        depth: Only the first ``depth`` results of each channel vote (at least the ``k``
            asked for by a search).
        adaptive: Use :func:`adaptive_fuse`.
        score_share: Share of each channel's contribution that comes from its normalised
            score (the rest from its reciprocal rank).
        lexical_base: Lexical weight for a prose question on which dense and BM25 disagree
            and BM25 has no standout result (a floor: BM25 still breaks dense's near-ties).
        lexical_agreement: Added to the lexical weight per unit of top-10 agreement.
        lexical_identifiers: Added per unit of identifier share.
        lexical_max: Cap on the lexical weight.
        lexical_gap: Added to the lexical weight per unit of BM25's relative lead of its
            first result over its second (an exact match stands out).
        dense_gap: Added to the dense weight per unit of the same lead in cosine similarity.
        symbol: Weight of the symbol channel for a question that is mostly names of code;
            it scales down linearly with the identifier share (half of the words or more
            gives the full weight), so a name mentioned in passing votes little.
        hint: Weight of a session's hint (the callees and callers of the code a follow-up
            refers back to).
        dense_latest: Weight of the last question's own dense ranking in a conversation.
        floor_slope: How the lexical floor of a candidate follows its language's calibration
            (:meth:`lexical_floors`): added per unit of BM25's MRR@10 over dense's above
            ``floor_pivot`` (0 turns calibration off).
        floor_pivot: The ratio at which a language keeps ``lexical_base``.
        floor_max: Cap on a calibrated floor.
    """

    prose: Mapping[str, float] = field(
        default_factory=lambda: {"dense": 1.0, "lexical": 0.25, "symbol": 0.1}
    )
    code: Mapping[str, float] = field(
        default_factory=lambda: {"dense": 1.0, "lexical": 0.6, "symbol": 1.0}
    )
    k: float = 5.0
    depth: int = 100
    adaptive: bool = True
    score_share: float = 0.6
    lexical_base: float = 0.1
    lexical_agreement: float = 0.5
    lexical_identifiers: float = 1.0
    lexical_max: float = 1.2
    lexical_gap: float = 1.0
    dense_gap: float = 0.0
    symbol: float = 0.6
    hint: float = 0.3
    dense_latest: float = 0.6
    floor_slope: float = 3.0
    floor_pivot: float = 0.8
    floor_max: float = 1.2

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
        if not 0.0 <= self.score_share <= 1.0:
            msg = f"FusionWeights: score_share must be within [0, 1], got {self.score_share}"
            raise ValueError(msg)
        numbers = (
            "lexical_base",
            "lexical_agreement",
            "lexical_identifiers",
            "lexical_max",
            "lexical_gap",
            "dense_gap",
            "floor_slope",
            "floor_pivot",
            "floor_max",
        )
        for name in (*numbers, "symbol", "hint", "dense_latest"):
            if getattr(self, name) < 0:
                msg = f"FusionWeights: {name} must be >= 0, got {getattr(self, name)}"
                raise ValueError(msg)

    def lexical_floors(self, ratios: Mapping[str, float]) -> dict[str, float]:
        """The lexical floor of each calibrated language, from BM25's MRR@10 over dense's on
        the index's own documented functions of that language (:mod:`c2rag.calibrate`).

        A language the embedding reads poorly (BM25 as good as dense or better) gets a larger
        floor, so BM25 counts for its candidates; one it reads well keeps ``lexical_base``.
        """
        if not self.adaptive or not self.floor_slope:
            return {}
        return {
            language: min(
                self.floor_max,
                max(
                    self.lexical_base, self.lexical_base + self.floor_slope * (r - self.floor_pivot)
                ),
            )
            for language, r in ratios.items()
        }

    def for_query(self, *, has_identifiers: bool) -> Mapping[str, float]:
        """The RRF weights of the non-adaptive mode for one query."""
        return self.code if has_identifiers else self.prose

    def channels_needed(self) -> frozenset[str]:
        """Channels whose ranking can change the result (the others need not run)."""
        if self.adaptive:
            needed = {"dense", "lexical"}
            if self.symbol > 0:
                needed.add("symbol")
            if self.dense_latest > 0:
                needed.add("dense_latest")
            return frozenset(needed)
        return frozenset(c for w in (self.prose, self.code) for c, v in w.items() if v > 0)

    @classmethod
    def only(cls, channel: str) -> FusionWeights:
        """Weights that keep a single channel (for measuring channels alone)."""
        weights = {c: float(c == channel) for c in CHANNELS}
        return cls(prose=weights, code=weights, adaptive=False)


@dataclass(frozen=True, slots=True)
class Fused:
    """One fused result.

    Attributes:
        id: The chunk id.
        score: The fused score.
        channels: The raw score from each channel that ranked it.
        contributions: Each channel's share of ``score`` (they add up to it).
    """

    id: str
    score: float
    channels: dict[str, float]
    contributions: dict[str, float] = field(default_factory=dict)


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
    return _combine(rankings, weights, depth, lambda rank, _value, _top, _bottom: 1 / (k + rank))


def channel_weights(
    rankings: Mapping[str, Sequence[tuple[str, float]]],
    evidence: QueryEvidence,
    params: FusionWeights,
) -> dict[str, float]:
    """The adaptive weight of each channel for one query (see the module docstring)."""
    dense = [cid for cid, _ in rankings.get("dense", ())[:_AGREEMENT_TOP]]
    lexical = [cid for cid, _ in rankings.get("lexical", ())[:_AGREEMENT_TOP]]
    agreement = len(set(dense) & set(lexical)) / _AGREEMENT_TOP if dense and lexical else 0.0
    lexical_weight = (
        params.lexical_base
        + params.lexical_agreement * agreement
        + params.lexical_identifiers * evidence.identifier_share
        + params.lexical_gap * lead(rankings.get("lexical", ()))
    )
    symbol = params.symbol * min(1.0, 2.0 * evidence.identifier_share)
    weights = {
        "dense": 1.0 + params.dense_gap * lead(rankings.get("dense", ())),
        "lexical": min(params.lexical_max, lexical_weight),
        "symbol": symbol,
        "hint": params.hint if evidence.hinted else 0.0,
    }
    if evidence.multi_turn:
        weights["dense_latest"] = params.dense_latest
    return weights


def lead(ranking: Sequence[tuple[str, float]]) -> float:
    """How far a ranking's first score stands above its second, relative to the first (0 when
    there is no second or the scores are not positive)."""
    if len(ranking) < 2 or ranking[0][1] <= 0:
        return 0.0
    return max(0.0, (ranking[0][1] - ranking[1][1]) / ranking[0][1])


def adaptive_fuse(
    rankings: Mapping[str, Sequence[tuple[str, float]]],
    evidence: QueryEvidence,
    params: FusionWeights,
    *,
    depth: int | None = None,
    floor_of: Callable[[str], float | None] | None = None,
) -> list[Fused]:
    """Fuse per-query weighted blends of reciprocal rank and normalised score.

    Each channel ``c`` with weight ``w_c`` (from :func:`channel_weights`) gives a candidate at
    rank ``r`` with score ``s``::

        w_c · ((1 − β) · (k + 1) / (k + r) + β · (s − s_min) / (s_max − s_min))

    where ``β`` is ``params.score_share`` and ``s_min``/``s_max`` are the lowest and highest
    score in the channel's (depth-limited) list. Both terms are 1 for a channel's first result.

    Args:
        floor_of: A candidate id → its language's calibrated lexical floor (``None``: the
            default ``params.lexical_base``); the floor replaces the base in that candidate's
            lexical weight.

    Returns:
        Fused results, best first (ties: best single-channel rank, then id).
    """
    depth = depth or params.depth
    weights = channel_weights(rankings, evidence, params)
    beta, k = params.score_share, params.k

    def share(rank: int, value: float, top: float, bottom: float) -> float:
        norm = (value - bottom) / (top - bottom) if top > bottom else 1.0
        return (1.0 - beta) * (k + 1.0) / (k + rank) + beta * norm

    per_candidate = None
    if floor_of is not None and weights.get("lexical", 0.0) > 0:
        lexical = weights["lexical"]

        def per_candidate(channel: str, cid: str, weight: float) -> float:
            floor = floor_of(cid) if channel == "lexical" else None
            if floor is None:
                return weight
            return min(params.lexical_max, lexical - params.lexical_base + floor)

    return _combine(rankings, weights, depth, share, per_candidate)


def fuse(
    rankings: Mapping[str, Sequence[tuple[str, float]]],
    evidence: QueryEvidence,
    params: FusionWeights,
    *,
    depth: int | None = None,
    floor_of: Callable[[str], float | None] | None = None,
) -> list[Fused]:
    """Fuse with ``params``: adaptive (with per-candidate lexical floors when ``floor_of``
    is given, see :func:`adaptive_fuse`), or weighted RRF with its prose/code weights."""
    if params.adaptive:
        return adaptive_fuse(rankings, evidence, params, depth=depth, floor_of=floor_of)
    weights = params.for_query(has_identifiers=evidence.has_identifiers)
    return weighted_rrf(rankings, weights, k=params.k, depth=depth or params.depth)


def _combine(
    rankings: Mapping[str, Sequence[tuple[str, float]]],
    weights: Mapping[str, float],
    depth: int | None,
    share: Callable[[int, float, float, float], float],
    per_candidate: Callable[[str, str, float], float] | None = None,
) -> list[Fused]:
    """``Σ_c weights[c] · share(rank, score, top score, lowest score)`` over the first
    ``depth`` items of each ranking; raw scores of every listed item are kept.
    ``per_candidate(channel, id, weight)`` may change a channel's weight for one candidate."""
    parts: dict[str, dict[str, float]] = {}
    raw: dict[str, dict[str, float]] = {}
    best_rank: dict[str, int] = {}
    for channel, ranking in rankings.items():
        for cid, value in ranking:
            raw.setdefault(cid, {})[channel] = value
        weight = weights.get(channel, 0.0)
        listed = ranking[:depth] if depth is not None else ranking
        if weight <= 0 or not listed:
            continue
        top, bottom = listed[0][1], listed[-1][1]
        for rank, (cid, value) in enumerate(listed, start=1):
            own = per_candidate(channel, cid, weight) if per_candidate is not None else weight
            parts.setdefault(cid, {})[channel] = own * share(rank, value, top, bottom)
            best_rank[cid] = min(best_rank.get(cid, rank), rank)
    return _ranked(parts, raw, best_rank)


def _ranked(
    parts: dict[str, dict[str, float]],
    raw: dict[str, dict[str, float]],
    best_rank: dict[str, int],
) -> list[Fused]:
    scores = {cid: sum(p.values()) for cid, p in parts.items()}
    order = sorted(scores, key=lambda c: (-scores[c], best_rank[c], c))
    return [Fused(cid, scores[cid], raw[cid], parts[cid]) for cid in order]
