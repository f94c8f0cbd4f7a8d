"""A code-aware tokenizer for lexical search and for finding identifiers in questions.

``getUserById`` → ``getuserbyid get user by id``; ``retry_upload`` → ``retry_upload retry
upload``; ``src/io/upload.py`` → ``src io upload py``. Identifiers are kept whole *and* split,
so an exact identifier in a question matches strongly while its words still match prose.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["STOP_WORDS", "code_tokens", "identifier_mentions", "split_identifier"]

# English words that carry no signal in a code question. Kept short on purpose: words such as
# "return", "class", "error" or "get" are meaningful in code and stay.
_STOP_WORDS = """
    a an and are as at be but by can could did do does doing for from had has have how i if
    in into is it its me my of on or our so such than that the their them then there these they
    this those to was we were what when where which while who whom why will with would you your
    please show tell find us about any some"""
STOP_WORDS: frozenset[str] = frozenset(_STOP_WORDS.split())

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]+)?")
# Boundaries inside one identifier: lower→Upper, Upper→Upper+lower (HTTPServer → HTTP Server),
# letter↔digit.
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def _stem(word: str) -> str:
    """Plural to singular, lightly (``uploads`` → ``upload``, ``retries`` → ``retry``)."""
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    return word[:-1]


@lru_cache(maxsize=65536)
def split_identifier(word: str) -> tuple[str, ...]:
    """Lower-cased sub-words of one identifier (``parseHTTPHeader_v2`` → parse http header v 2).

    Returns an empty tuple when the identifier has a single sub-word.
    """
    parts = [_stem(p.lower()) for piece in word.split("_") if piece for p in _CAMEL.findall(piece)]
    if len(parts) <= 1:
        return ()
    return tuple(parts)


def code_tokens(text: str, *, stop_words: frozenset[str] = STOP_WORDS) -> list[str]:
    """Tokens of code or of a question about code, lower-cased, in order of appearance.

    Each identifier is emitted whole, followed by its sub-words when it has several
    (camelCase, snake_case). Dotted names, paths and kebab-case split at their punctuation.
    Numbers are kept; single letters and stop words are dropped (but not inside identifiers:
    ``is_valid`` keeps ``is``). Plain words and sub-words lose a plural ``s``; whole
    identifiers are kept exactly.

    Args:
        text: Any text: source code, a path, a qualified name, a question.
        stop_words: Lower-case words to drop when they stand alone.

    Returns:
        The tokens, duplicates kept (term frequency matters to BM25).
    """
    out: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group()
        lower = word.lower()
        parts = split_identifier(word) if not word[0].isdigit() else ()
        if parts:
            out.append(lower)
            out.extend(parts)
        elif (len(lower) > 1 or lower.isdigit()) and lower not in stop_words:
            out.append(_stem(lower))
    return out


# A mention looks like code when it has a dot/slash path shape, an underscore, inner capitals,
# call parentheses, or sits between backticks.
_MENTION = re.compile(
    r"`(?P<tick>[^`\s]+)`"
    r"|(?P<path>[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)+)"
    r"|(?P<dotted>[A-Za-z_][A-Za-z0-9_]*(?:(?:\.|::|#)[A-Za-z_][A-Za-z0-9_]*)+)(?:\(\))?"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)(?P<call>\(\))?"
)


def _looks_like_code(word: str) -> bool:
    return "_" in word or any(c.isupper() for c in word[1:]) or any(c.isdigit() for c in word)


def identifier_mentions(text: str) -> list[tuple[str, bool]]:
    """Names of code a question mentions: identifiers, dotted names, paths.

    Args:
        text: A question or a whole dialogue.

    Returns:
        ``(mention, strong)`` pairs in order of appearance, without duplicates. ``strong`` is
        true when the mention can only be code (``get_user``, ``RetryPolicy.backoff``,
        ``src/io/upload.py``, ``fetch()``, anything in backticks); plain words such as
        ``upload`` are returned with ``strong=False``, to be matched only exactly.
    """
    seen: dict[str, bool] = {}
    for m in _MENTION.finditer(text):
        if m.group("tick"):
            word, strong = m.group("tick").strip("().,;:"), True
        elif m.group("path"):
            word, strong = m.group("path").strip("."), True
        elif m.group("dotted"):
            word = m.group("dotted")
            # "e.g" or "i.e" in prose, or a sentence ending before a capital, is not code
            strong = all(len(p) > 1 for p in re.split(r"\.|::|#", word))
        else:
            word = m.group("ident")
            strong = bool(m.group("call")) or _looks_like_code(word)
            if not strong and (len(word) < 3 or word.lower() in STOP_WORDS):
                continue
        if word and (word not in seen or strong):
            seen[word] = seen.get(word, False) or strong
    return list(seen.items())
