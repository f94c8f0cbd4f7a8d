"""Turning a question or a conversation into what each channel searches with.

The dense channel embeds the conversation the way C2LLM was trained for multi-turn code QA
(CodeFeedbackMT): the turns in order, as one query. When it does not fit the model's window,
the most recent turns are kept first and older ones dropped; a single turn that alone is too
long is cut, and the cut is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["DialogueQuery", "Turn", "as_turns", "build_query", "cap_turns"]

Role = Literal["user", "assistant"]
HistoryOrder = Literal["chronological", "recent_first"]


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of a conversation."""

    role: Role
    text: str


@dataclass(frozen=True)
class DialogueQuery:
    """A query ready for the channels.

    Attributes:
        turns: The turns that were kept, in chronological order.
        text: The text the dense channel embeds.
        latest: The last user turn (the lexical channel's main input).
        multi_turn: Whether more than one turn is kept (selects the multi-turn prompt).
        notes: What had to be changed to fit (dropped turns, truncation).
        shortened: Whether the newest turn alone was longer than the window and was
            shortened to fit.
    """

    turns: tuple[Turn, ...]
    text: str
    latest: str
    multi_turn: bool
    notes: tuple[str, ...] = ()
    shortened: bool = False


# Fits the newest turn's text to a token budget: the text and a note, or ``None`` to keep
# its first tokens (build_query's own cut).
Shorten = Callable[[str, int], "tuple[str, str] | None"]


def as_turns(query: str | Sequence[Any]) -> list[Turn]:
    """Normalise a question or a conversation to turns.

    Accepts a string (one question); a list whose items are strings (user questions, oldest
    first), :class:`Turn` objects, ``(role, text)`` pairs, or mappings with ``role`` and
    ``content`` (chat-message style) or ``text``. Roles: ``user``/``human``,
    ``assistant``/``ai``.

    Raises:
        ValueError: On an empty query or an unknown role.
    """
    if isinstance(query, str):
        items: list[Any] = [query]
    else:
        items = list(query)
    turns: list[Turn] = []
    role: str
    for n, item in enumerate(items):
        if isinstance(item, Turn):
            role, text = item.role, item.text
        elif isinstance(item, str):
            role = "user"
            text = item
        elif isinstance(item, Mapping):
            role = str(item.get("role", "user"))
            text = str(item.get("content", item.get("text", "")))
        elif isinstance(item, Sequence) and len(item) == 2:
            role, text = str(item[0]), str(item[1])
        else:
            msg = (
                f"turn {n} of the query is {type(item).__name__}; "
                "expected str, (role, text) or a mapping"
            )
            raise ValueError(msg)
        role = {"human": "user", "ai": "assistant", "system": "user"}.get(role, role)
        if role not in ("user", "assistant"):
            msg = f"turn {n} has role {role!r}; valid roles: 'user', 'assistant'"
            raise ValueError(msg)
        if text.strip():
            turns.append(Turn(role, text.strip()))  # type: ignore[arg-type]
    if not any(t.role == "user" for t in turns):
        msg = "empty query: pass a non-empty question (or a conversation with a user turn)"
        raise ValueError(msg)
    return turns


def cap_turns(turns: Sequence[Turn], *, max_chars: int) -> tuple[list[Turn], tuple[str, ...]]:
    """Cut any turn longer than ``max_chars`` characters (a pasted log, a whole file).

    Returns:
        The turns, and a note per cut turn (nothing is raised: a huge question still gets an
        answer from its beginning).
    """
    out: list[Turn] = []
    notes: list[str] = []
    for n, turn in enumerate(turns):
        if len(turn.text) > max_chars:
            notes.append(
                f"turn {n} cut from {len(turn.text):,} to {max_chars:,} characters "
                "(the query length limit)"
            )
            turn = Turn(turn.role, turn.text[:max_chars])
        out.append(turn)
    return out, tuple(notes)


def build_query(
    turns: Sequence[Turn],
    *,
    count_tokens: Callable[[str], int],
    max_tokens: int,
    order: HistoryOrder = "chronological",
    max_turns: int | None = None,
    shorten: Shorten | None = None,
) -> DialogueQuery:
    """Select and format turns for the dense channel within ``max_tokens``.

    Args:
        turns: The conversation so far (chronological).
        count_tokens: The embedding model's tokenizer.
        max_tokens: Token budget for the text (the model window minus the prompt).
        order: Render the kept turns oldest first (as in training) or newest first.
        max_turns: Keep at most this many most recent turns.
        shorten: How to fit a newest turn that is alone longer than the budget; without
            it, or when it returns ``None``, the turn keeps its first tokens
            (:func:`prefix_cut`). Older turns still join it if they fit.
    """
    notes: list[str] = []
    latest = next(t.text for t in reversed(turns) if t.role == "user")
    # Drop trailing assistant turns: the question being asked is the last user turn.
    end = max(i for i, t in enumerate(turns) if t.role == "user") + 1
    candidates = list(turns[:end])
    if max_turns is not None and len(candidates) > max_turns:
        candidates = candidates[-max_turns:]
    kept: list[Turn] = []
    used = 0
    shortened = False
    for turn in reversed(candidates):  # most recent first
        cost = count_tokens(_format(turn)) + 1
        if used + cost > max_tokens and not kept:
            # the newest turn alone is too long: shorten its text within what its
            # "Role: " prefix leaves of the budget
            prefix = count_tokens(_format(Turn(turn.role, ""))) + 1
            budget = max(1, max_tokens - prefix)
            fitted = shorten(turn.text, budget) if shorten is not None else None
            if fitted is None:
                fitted = (
                    prefix_cut(turn.text, count_tokens, budget),
                    f"query truncated from {cost - prefix} to at most {budget} tokens "
                    "(the embedding model's limit)",
                )
            text, note = fitted
            notes.append(note)
            turn, shortened = Turn(turn.role, text), True
            cost = count_tokens(_format(turn)) + 1
        if used + cost > max_tokens and kept:
            break
        kept.append(turn)
        used += cost
    if len(kept) < len(candidates):
        dropped = len(candidates) - len(kept)
        notes.append(f"{dropped} older turn(s) left out to fit the embedding model's window")
    chronological = list(reversed(kept))
    shown = chronological if order == "chronological" else kept
    multi = len(kept) > 1
    text = "\n".join(_format(t) for t in shown) if multi else kept[0].text
    return DialogueQuery(tuple(chronological), text, latest, multi, tuple(notes), shortened)


def prefix_cut(text: str, count_tokens: Callable[[str], int], max_tokens: int) -> str:
    """The longest prefix of ``text`` within ``max_tokens`` (character bisection)."""
    lo, hi = 0, min(len(text), max_tokens * 16)  # no tokenizer fits 16+ characters a token
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count_tokens(text[:mid]) <= max_tokens:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]


def _format(turn: Turn) -> str:
    return f"{turn.role.capitalize()}: {turn.text}"
