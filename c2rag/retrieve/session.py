"""CodeQASession: multi-turn code QA with a memory of what the model has already been shown.

A session keeps the conversation and a ledger of the chunks already given. Each turn searches
with the whole conversation (C2LLM's multi-turn prompt), resolves follow-ups that name no
symbol ("that function", "its callers", "does it handle 429?") from the chunks the previous
turn was about, and returns only new snippets plus references to chunks given earlier. No LLM
is needed; a query-rewrite hook may be supplied.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from c2rag.context import PackedContext, pack_context
from c2rag.retrieve.dialogue import Turn, as_turns
from c2rag.retrieve.filters import SearchFilters
from c2rag.retrieve.gitview import GitView
from c2rag.retrieve.retriever import SearchResult
from c2rag.store.tokens import identifier_mentions
from c2rag.types import Citation, Hit

__all__ = ["CodeQASession", "SessionRetriever", "SessionTurn"]

# Words that point back at something shown earlier. Bare "that"/"this"/"there" are left out:
# they are as often a conjunction or "is there a ..." as a reference.
_ANAPHORA = re.compile(
    r"\b(it|its|it's|itself|these|those|them|they|their|same|above|former|latter)\b"
    r"|\b(that|this)\s+(one|function|method|class|module|file|code|helper|call|snippet)\b"
    r"|\b(does|did|is|was|can|could|will|would|should)\s+(that|this)\b|\b(that|this)\s*\?",
    re.IGNORECASE,
)
_CALLERS = re.compile(
    r"\b(who|what|which|where)\b[^?.]*\b(calls?|uses?|invokes?)\b(?!\s+(into|out))"
    r"|\bcall(er|ers|ed from|ed by|sites?)\b|\busages?\b|\bused by\b"
    r"|\bis (it|that|this) (used|called)\b",
    re.IGNORECASE,
)
_CALLEES = re.compile(
    r"\bwhat does (it|that|this)\b[^?.]*\b(call|use|invoke)\b|\bcallees?\b|\bdepends? on\b"
    r"|\bcalls? (into|out)\b",
    re.IGNORECASE,
)

# How many chunks around the referred-to symbol a follow-up's hint holds.
_HINT_SIZE = 6
# Members of one class among the hits from which its outline is shown instead.
_OUTLINE_MIN_MEMBERS = 3

RewriteHook = Callable[[list[Turn]], "str | Sequence[Any]"]


class SessionRetriever(Protocol):
    """What a session searches with: a :class:`CodeRetriever`, or
    :class:`c2rag.org.search.MultiRepoRetriever` over several repositories."""

    def search_detailed(
        self,
        query: str | Sequence[Any],
        *,
        k: int = ...,
        filters: Any = ...,
        neighbours: int = ...,
        hint: Sequence[str] = ...,
    ) -> SearchResult: ...

    def neighbours(
        self, hit: Hit, *, limit: int = ..., exclude: set[str] | None = ..., direction: str = ...
    ) -> list[Hit]: ...

    def fetch(self, ids: Sequence[str]) -> dict[str, Hit]: ...

    def class_outline(self, member: Hit) -> list[str]: ...


@dataclass(frozen=True)
class SessionTurn:
    """The outcome of one question.

    Attributes:
        question: The question as asked.
        context: New snippets within the budget, and references to chunks given before.
        hits: Every hit considered, best first (new and already given).
        follow_up: Whether the question was resolved against earlier turns.
        focus: Qualified names the follow-up was taken to refer to.
        notes: Query adjustments (truncation, dropped turns).
    """

    question: str
    context: PackedContext
    hits: list[Hit]
    follow_up: bool = False
    focus: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def new_citations(self) -> list[Citation]:
        return self.context.citations

    def render(self) -> str:
        return self.context.render()


@dataclass
class _Ledger:
    given: dict[str, Citation] = field(default_factory=dict)
    focus: list[Hit] = field(default_factory=list)
    shown: dict[str, Hit] = field(default_factory=dict)
    """Hits shown so far by lower-cased short name (the latest of a name wins)."""


class CodeQASession:
    """A conversation about one repository (or several searched together).

    Args:
        retriever: The :class:`CodeRetriever` to search with, or a
            :class:`c2rag.org.search.MultiRepoRetriever` (citations then name the repository).
        budget_tokens: Token budget of each turn's packed context.
        k: Fused hits considered per turn.
        count_tokens: The answering LLM's tokenizer (default: an estimate).
        neighbours: Callees/callers of the top hit added per turn; ``None`` = 2 when
            ``budget_tokens`` is at most 4000 (a small budget is better spent on the code
            around the best hit than on weaker hits), else 0.
        filters: Filters applied to every turn.
        rewrite: Optional hook turning the conversation into a query (e.g. an LLM rewrite).
        max_chunks_per_file: Passed to :func:`pack_context`.

    Example:
        >>> session = CodeQASession(CodeRetriever.from_path("."))
        >>> print(session.ask("where do we retry failed uploads?").render())
        >>> print(session.ask("and who calls it?").render())
    """

    def __init__(
        self,
        retriever: SessionRetriever,
        *,
        budget_tokens: int = 4000,
        k: int = 8,
        count_tokens: Callable[[str], int] | None = None,
        neighbours: int | None = None,
        filters: SearchFilters | Mapping[str, Any] | None = None,
        rewrite: RewriteHook | None = None,
        max_chunks_per_file: int = 4,
    ) -> None:
        self.retriever = retriever
        self.budget_tokens = budget_tokens
        self.k = k
        self.count_tokens = count_tokens
        self.neighbours = (2 if budget_tokens <= 4000 else 0) if neighbours is None else neighbours
        self.filters = SearchFilters.coerce(filters)
        self.rewrite = rewrite
        self.max_chunks_per_file = max_chunks_per_file
        self.turns: list[Turn] = []
        self._ledger = _Ledger()
        self._git = _git_view(retriever)

    @property
    def given(self) -> dict[str, Citation]:
        """Chunks already given in this session (id → citation), oldest first."""
        return dict(self._ledger.given)

    def reset(self) -> None:
        """Forget the conversation and the ledger."""
        self.turns.clear()
        self._ledger = _Ledger()

    def add_answer(self, text: str) -> None:
        """Record the assistant's reply, so that later turns search with it in context."""
        if text.strip():
            self.turns.append(Turn("assistant", text.strip()))

    def ask(
        self, question: str, *, filters: SearchFilters | Mapping[str, Any] | None = None
    ) -> SessionTurn:
        """Answer one question of the conversation with new context and references.

        Raises:
            ValueError: On an empty question.
        """
        as_turns(question)  # validates: a clear error before anything is recorded
        self.turns.append(Turn("user", question.strip()))
        focus = self._refers_to(question)
        follow_up = bool(focus)
        # The hint: the code around the one symbol the follow-up points at (what it calls and
        # what calls it), never every earlier name, and never the symbol itself again.
        hint = self._around(focus[0]) if focus else []
        query: str | Sequence[Any] = self.turns
        if self.rewrite is not None:
            query = self.rewrite(list(self.turns))
        active = filters if filters is not None else self.filters
        result = self.retriever.search_detailed(query, k=self.k, filters=active, hint=hint)
        hits = list(result.hits)
        related: list[Hit] = []
        if focus:
            direction = _relation(question)
            if direction:
                related = self.retriever.neighbours(
                    focus[0], limit=max(self.neighbours, 3), direction=direction
                )
        if self.neighbours and hits:
            # the code around the best hit goes right after it, before weaker hits
            around = self.retriever.neighbours(
                hits[0], limit=self.neighbours, exclude={h.id for h in hits}
            )
            hits = [hits[0], *around, *hits[1:]]
        hits = self._with_outlines(_merge(related, hits))
        packed = pack_context(
            hits,
            budget_tokens=self.budget_tokens,
            count_tokens=self.count_tokens,
            max_chunks_per_file=self.max_chunks_per_file,
            given=self._ledger.given.keys(),
            source=self._git.source if self._git else None,
            freshness=self._git.freshness if self._git else None,
        )
        by_id = {h.id: h for h in hits}
        for cid in packed.ids:
            self._ledger.given[cid] = by_id[cid].citation
        # What the next follow-up's "it" refers to: the best search hits that were shown
        # (not the neighbours added around them), after the answer to a caller/callee question.
        shown = set(packed.ids) | {r.id for r in packed.references}
        searched = [h for h in result.hits if h.id in shown]
        answered = [h for h in related if h.id in shown][:1]
        self._ledger.focus = (answered + searched)[:2] or self._ledger.focus
        for hit in reversed([*answered, *searched]):
            self._ledger.shown[hit.chunk.name.rsplit(".", 1)[-1].lower()] = hit
        return SessionTurn(
            question,
            packed,
            hits,
            follow_up,
            tuple(h.chunk.name for h in focus),
            result.notes,
        )

    def _around(self, hit: Hit) -> list[str]:
        """Callees and callers of ``hit`` (alternating), its own id left out."""
        return [h.id for h in self.retriever.neighbours(hit, limit=_HINT_SIZE)]

    def _refers_to(self, question: str) -> list[Hit]:
        """The earlier hits a question refers back to: a name shown earlier ("who calls
        ``parse``?" means the ``parse`` that was shown, not every ``parse``), else the last
        turn's focus when the question points back ("it", "that function", "its callers")."""
        if not self._ledger.focus:
            return []
        named = [
            self._ledger.shown[key]
            for text, _ in identifier_mentions(question)
            if (key := text.rsplit(".", 1)[-1].lower()) in self._ledger.shown
        ]
        if named:
            return named
        if _ANAPHORA.search(question) or _relation(question):
            return list(self._ledger.focus)
        return []

    def _with_outlines(self, hits: list[Hit]) -> list[Hit]:
        """Add the class outline when several of its members are hits, so the packer can
        show one outline instead of many fragments."""
        members: dict[tuple[str, ...], list[Hit]] = {}
        for hit in hits:
            if hit.chunk.parent and (outline := tuple(self.retriever.class_outline(hit))):
                members.setdefault(outline, []).append(hit)
        have = {h.id for h in hits}
        wanted = [
            (cid, max(h.score for h in group))
            for outline, group in members.items()
            if len(group) >= _OUTLINE_MIN_MEMBERS
            for cid in outline
            if cid not in have
        ]
        found = self.retriever.fetch([cid for cid, _ in wanted])
        outlines = [
            replace(found[cid], score=score, channels={}) for cid, score in wanted if cid in found
        ]
        return [*hits, *outlines]


def _git_view(retriever: Any) -> Any:
    """Where packing reads file text and freshness: a retriever over several repositories
    does it itself (each hit from its own repository), else a view of the one repository."""
    if callable(getattr(retriever, "source", None)):
        return retriever
    return GitView(retriever.repo) if retriever.repo is not None else None


def _relation(question: str) -> str | None:
    if _CALLEES.search(question):
        return "callees"
    if _CALLERS.search(question):
        return "callers"
    return None


def _merge(first: list[Hit], rest: list[Hit]) -> list[Hit]:
    """Related hits first (they answer the follow-up), then the search hits; no repeats."""
    out: dict[str, Hit] = {}
    top = rest[0].score if rest else 1.0
    for hit in first:
        if hit.id not in out:
            # replace keeps the hit's type: one from several repositories stays cited so
            out[hit.id] = replace(hit, score=top + hit.score, contributions={}, members=())
    for hit in rest:
        out.setdefault(hit.id, hit)
    return list(out.values())
