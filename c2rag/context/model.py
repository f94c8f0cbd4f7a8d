"""Records of a packed context: snippets with citations, references, drops, freshness."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from c2rag.types import Citation

__all__ = [
    "DropReason",
    "Dropped",
    "Freshness",
    "PackedContext",
    "Reference",
    "Snippet",
    "copies_note",
]

DropReason = Literal["budget", "per_file_cap", "duplicate", "in_skeleton", "members_shown"]


@dataclass(frozen=True, slots=True)
class Freshness:
    """Whether what was indexed still matches the working copy.

    ``changed`` is true when the file differs between the indexed commit and the current
    HEAD (or the working tree); ``None`` when that could not be checked.
    """

    indexed_commit: str
    head_commit: str | None
    changed: bool | None

    @property
    def stale(self) -> bool:
        """True when the file is known to have changed since it was indexed."""
        return bool(self.changed)

    def describe(self) -> str:
        if self.changed is None:
            return "freshness unknown"
        if self.changed:
            indexed = self.indexed_commit[:12]
            # HEAD still at the indexed commit: the change is in the working tree
            head_moved = self.head_commit is not None and self.head_commit[:12] != indexed
            where = self.head_commit[:12] if head_moved and self.head_commit else "the working tree"
            return f"STALE: file changed between {indexed} and {where}"
        return "fresh"


@dataclass(frozen=True, slots=True)
class Snippet:
    """Lines of one file given to the model, possibly merged from several chunks."""

    citation: Citation
    text: str
    symbols: tuple[str, ...]
    """Qualified names of the chunks it contains, in line order."""
    kind: str
    """``code`` for verbatim lines, or the chunk kind of a summary (``class`` skeleton,
    ``module`` remainder) whose text elides bodies."""
    ids: tuple[str, ...]
    """Ids of the chunks it contains."""
    score: float
    language: str = ""
    tokens: int = 0
    freshness: Freshness | None = None
    copies: tuple[Citation, ...] = ()
    """Where the same code also is (identical chunks in other files)."""

    @property
    def path(self) -> str:
        return self.citation.path

    @property
    def verbatim(self) -> bool:
        """Whether ``text`` is exactly the cited lines."""
        return self.kind == "code"


@dataclass(frozen=True, slots=True)
class Reference:
    """A chunk that is relevant again but was already given earlier in the session."""

    id: str
    citation: Citation
    symbol: str
    score: float


@dataclass(frozen=True, slots=True)
class Dropped:
    """A hit left out, and why."""

    id: str
    citation: Citation
    symbol: str
    reason: DropReason


@dataclass(frozen=True)
class PackedContext:
    """What fits in the token budget, ready for a prompt (:meth:`render`) or for a program."""

    snippets: list[Snippet]
    references: list[Reference] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    budget_tokens: int = 0
    used_tokens: int = 0

    @property
    def ids(self) -> list[str]:
        """Ids of every chunk included, in snippet order."""
        return [i for s in self.snippets for i in s.ids]

    @property
    def citations(self) -> list[Citation]:
        return [s.citation for s in self.snippets]

    def render(self) -> str:
        """The text block for an LLM prompt: one fenced snippet per range, each headed by its
        citation and symbols, then the references to context given earlier."""
        parts = [render_snippet(s) for s in self.snippets]
        if self.references:
            parts.append(render_references(self.references))
        return "\n\n".join(parts)


def render_snippet(snippet: Snippet) -> str:
    """One snippet as Markdown: citation header, notes, fenced code."""
    head = f"### {snippet.citation}"
    if snippet.symbols:
        head += f" ({', '.join(snippet.symbols)})"
    notes = []
    if not snippet.verbatim:
        notes.append(f"{snippet.kind} outline, bodies elided")
    if snippet.freshness is not None and snippet.freshness.stale:
        notes.append(snippet.freshness.describe())
    if snippet.copies:
        notes.append(copies_note(snippet.copies))
    if notes:
        head += f"\n[{'; '.join(notes)}]"
    return f"{head}\n```{snippet.language}\n{snippet.text}\n```"


def copies_note(copies: Sequence[Citation]) -> str:
    """The note that the same code is also at ``copies`` (a packed snippet's header, ``c2rag
    search``'s listing)."""
    return f"same code also at {', '.join(str(c) for c in copies)}"


def render_references(references: list[Reference]) -> str:
    lines = ["Already in context above (not repeated):"]
    lines += [f"- {r.citation} ({r.symbol})" for r in references]
    return "\n".join(lines)
