"""The three retrieval channels: dense (Chroma), lexical (BM25), symbol (name matching).

Each returns ``(chunk id, score)`` pairs, best first, already restricted by the filters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from c2rag.retrieve.dialogue import Turn
from c2rag.store.lexical import LexicalIndex
from c2rag.store.symbols import SymbolTable
from c2rag.store.tokens import STOP_WORDS, code_tokens, identifier_mentions

__all__ = [
    "Mention",
    "dense_channel",
    "dialogue_mentions",
    "identifier_share",
    "lexical_channel",
    "lexical_tokens",
    "symbol_channel",
]

Ranking = list[tuple[str, float]]

# A mention's weight decays with the age of the turn it appears in.
_RECENCY_DECAY = 0.7


@dataclass(frozen=True, slots=True)
class Mention:
    """A name of code found in the dialogue (or carried over by the session)."""

    text: str
    strong: bool
    weight: float = 1.0


def dense_channel(
    collection: Any, vector: np.ndarray, *, k: int, where: dict[str, Any] | None
) -> Ranking:
    """Nearest chunks by cosine similarity (score = 1 − cosine distance)."""
    total = collection.count()
    if not total or k <= 0:
        return []
    result = collection.query(
        query_embeddings=[np.asarray(vector, dtype=np.float32).tolist()],
        n_results=min(k, total),
        where=where,
        include=["distances"],
    )
    ids, distances = result["ids"][0], result["distances"][0]
    return [(cid, 1.0 - float(d)) for cid, d in zip(ids, distances, strict=True)]


def lexical_tokens(turns: Sequence[Turn], *, latest: Sequence[str] | None = None) -> list[str]:
    """BM25 query tokens: the latest question in full, plus the code names of earlier ones
    (so that "does it retry?" after "what does ``upload_blob`` do?" still weighs
    ``upload_blob``).

    Args:
        turns: The conversation.
        latest: The latest question's tokens when they are read otherwise (a report's, see
            :func:`c2rag.retrieve.evidence.lexical_query`).
    """
    users = [t for t in turns if t.role == "user"]
    if not users:
        return []
    tokens = list(latest) if latest is not None else code_tokens(users[-1].text)
    for turn in users[:-1]:
        for mention, strong in identifier_mentions(turn.text):
            if strong:
                tokens += code_tokens(mention)
    return tokens


def lexical_channel(
    lexical: LexicalIndex,
    tokens: Sequence[str],
    *,
    k: int,
    allowed: Callable[[str], bool] | None,
) -> Ranking:
    """BM25 over the code-aware token index."""
    if not tokens:
        return []
    return lexical.search(list(tokens), k=k, allowed=allowed)


# A Sphinx cross-reference (":class:`Foo`", ":meth:`~a.b`") inside prose: a name the sentence
# mentions in passing, not a sign that the question is about that name.
_RST_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`[^`]*`")


def dialogue_mentions(turns: Sequence[Turn]) -> list[Mention]:
    """Code names mentioned in the user turns, weighted by recency (latest turn = 1.0).

    A plain word (``concat``) is strong only when it is the whole question: "concat" asks for
    the function, "how do I concat two lists" does not.
    """
    users = [t for t in turns if t.role == "user"]
    out: dict[str, Mention] = {}
    for age, turn in enumerate(reversed(users)):
        weight = _RECENCY_DECAY**age
        alone = turn.text.strip().strip("?.!`'\"()")
        for text, strong in identifier_mentions(turn.text):
            strong = strong or text == alone
            old = out.get(text)
            if old is None or old.weight < weight or (strong and not old.strong):
                out[text] = Mention(text, strong or (old.strong if old else False), weight)
    return list(out.values())


def identifier_share(text: str) -> float:
    """Share of a question's content words that are code names (``get_user``, ``a.b``, paths).

    "where is hash_password defined?" → 0.5; a docstring-like sentence that happens to name
    one identifier among ten words → 0.1. Exact-match channels deserve a big vote only when
    names make up much of the question.
    """
    mentions = identifier_mentions(_RST_ROLE.sub(" ", text))
    strong = sum(1 for _, is_code in mentions if is_code)
    if not strong:
        return 0.0
    words = len([w for w in text.split() if w.strip("?.,:;!()`'\"").lower() not in STOP_WORDS])
    return strong / max(words, strong)


def symbol_channel(
    symbols: SymbolTable,
    mentions: Sequence[Mention],
    *,
    k: int,
    allowed: Callable[[str], bool] | None,
) -> Ranking:
    """Chunks whose qualified name, identifier or path a mention names.

    Only names written as code (``get_user``, ``Foo.bar``, ``src/x.py``, anything in
    backticks) or a question that is one bare name vote: an English word that happens to name
    a function ("concat", "range") does not. They match exactly, by qualified-name or path
    suffix, and by prefix.
    """
    scores: dict[str, float] = {}
    for mention in mentions:
        if not mention.strong:
            continue
        matches = symbols.match(mention.text.lstrip("~!"), prefix=True)
        factor = mention.weight
        for cid, score in matches:
            if allowed is not None and not allowed(cid):
                continue
            value = score * factor
            # several mentions of one chunk add up a little beyond the best one
            scores[cid] = max(scores.get(cid, 0.0), value) + 0.05 * min(scores.get(cid, 0.0), value)
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], -_span(symbols, kv[0]), kv[0]))
    return ranked[:k]


def _span(symbols: SymbolTable, cid: str) -> int:
    """Lines of a chunk: among equal matches of one name the longer definition ranks first (an
    implementation before the one-line wrapper that delegates to it)."""
    info = symbols.get(cid)
    return info.end_line - info.start_line if info is not None else 0
