"""Fit retrieved chunks into a token budget as cited, non-overlapping snippets.

Hits are taken best first. Overlapping and adjacent ranges of one file (and parts of one split
function with only blank lines between) merge into one snippet; when enough members of one
class (or module) are hits and its outline is too, the outline replaces the fragments. A hit
that would push the rendered context over the budget is dropped (and a smaller, lower-ranked
one may still fit). The result is ordered by file (most relevant file first) and line, and
every snippet carries ``path:start-end@sha``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace

from c2rag.context.model import (
    Dropped,
    DropReason,
    Freshness,
    PackedContext,
    Reference,
    Snippet,
    render_references,
    render_snippet,
)
from c2rag.types import Hit

__all__ = ["estimate_tokens", "pack_context"]

TokenCounter = Callable[[str], int]
SourceReader = Callable[[Hit], "str | None"]
FreshnessCheck = Callable[[Hit], "Freshness | None"]

_SUMMARY_KINDS = frozenset({"class", "module"})


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate: about three characters per token, as for code in BPE
    vocabularies; errs on the high side so that a budget is rarely overrun."""
    return max(1, math.ceil(len(text) / 3))


@dataclass
class _Piece:
    hit: Hit
    lines: list[str]
    summary: bool
    file_lines: list[str] | None = None  # the whole file, when read from git

    @property
    def start(self) -> int:
        return self.hit.chunk.start_line

    @property
    def end(self) -> int:
        return self.hit.chunk.end_line


def pack_context(
    hits: Sequence[Hit],
    *,
    budget_tokens: int,
    count_tokens: TokenCounter | None = None,
    max_chunks_per_file: int = 6,
    skeleton_min_members: int = 3,
    given: Collection[str] = (),
    source: SourceReader | None = None,
    freshness: FreshnessCheck | None = None,
) -> PackedContext:
    """Pack hits into cited snippets that fit ``budget_tokens`` once rendered.

    Args:
        hits: Retrieved chunks, best first (their order is the priority).
        budget_tokens: Upper bound on ``count_tokens(result.render())``.
        count_tokens: The target LLM's tokenizer as a callable; :func:`estimate_tokens` if
            omitted.
        max_chunks_per_file: At most this many hits from one file are used.
        skeleton_min_members: When a class/module outline is among the hits together with at
            least this many of its members, the outline replaces them; with fewer, the
            members are shown in full and the outline is left out.
        given: Ids of chunks already in the conversation: they become references.
        source: Returns the text of a hit's file at the hit's commit (e.g. from git). With it,
            snippet text is cut from the file, so citations are exact even for chunks whose
            text is not a verbatim slice (split parts with a repeated header).
        freshness: Returns whether a hit's file changed since it was indexed.

    Returns:
        The packed context; :attr:`PackedContext.dropped` says what was left out and why.

    Raises:
        ValueError: If ``budget_tokens`` or ``max_chunks_per_file`` is not positive.
    """
    if budget_tokens <= 0 or max_chunks_per_file <= 0:
        msg = (
            f"budget_tokens ({budget_tokens}) and max_chunks_per_file ({max_chunks_per_file}) "
            "must be positive"
        )
        raise ValueError(msg)
    count = count_tokens or estimate_tokens
    given_ids = set(given)
    references: list[Reference] = []
    dropped: list[Dropped] = []
    files: dict[tuple[str, str, str], list[_Piece]] = {}
    file_order: list[tuple[str, str]] = []
    snippets_of: dict[tuple[str, str, str], list[Snippet]] = {}
    seen: set[str] = set()
    used = 0
    top = hits[0].id if hits else ""

    def drop(hit: Hit, reason: DropReason) -> None:
        dropped.append(Dropped(hit.id, hit.citation, hit.chunk.name, reason))

    for hit in hits:
        if hit.id in seen:
            drop(hit, "duplicate")
            continue
        seen.add(hit.id)
        if hit.id in given_ids:
            ref = Reference(hit.id, hit.citation, hit.chunk.name, hit.score)
            ref_cost = count(render_references([*references, ref])) - (
                count(render_references(references)) if references else 0
            )
            if used + ref_cost + 2 <= budget_tokens:
                references.append(ref)
                used += ref_cost + 2
            else:
                drop(hit, "budget")
            continue
        # a hit from one repository of several carries .repo: forks share paths and commits
        key = (getattr(hit, "repo", ""), hit.chunk.path, hit.commit)
        pieces = files.get(key, [])
        if len(pieces) >= max_chunks_per_file:
            drop(hit, "per_file_cap")
            continue
        trial = [*pieces, _piece(hit, source)]
        new_snippets, _ = _file_snippets(trial, skeleton_min_members, freshness, count, top)
        old_cost = sum(s.tokens + 2 for s in snippets_of.get(key, []))
        new_cost = sum(s.tokens + 2 for s in new_snippets)
        if used - old_cost + new_cost > budget_tokens:
            drop(hit, "budget")
            continue
        if key not in files:
            file_order.append(key)
        files[key] = trial
        snippets_of[key] = new_snippets
        used += new_cost - old_cost

    # Final pass: record what the outline rule displaced, then guarantee the budget on the
    # exact rendering (tokenizers are not additive across joins), dropping from the end.
    snippets: list[Snippet] = []
    for key in file_order:
        final, displaced = _file_snippets(files[key], skeleton_min_members, freshness, count, top)
        snippets.extend(final)
        for hit, reason in displaced:
            drop(hit, reason)
    context = PackedContext(snippets, references, dropped, budget_tokens, 0)
    by_id = {h.id: h for h in hits}
    while snippets and count(context.render()) > budget_tokens:
        worst = min(range(len(snippets)), key=lambda i: snippets[i].score)
        for cid in snippets.pop(worst).ids:
            drop(by_id[cid], "budget")
    while references and count(context.render()) > budget_tokens:
        ref = references.pop()
        dropped.append(Dropped(ref.id, ref.citation, ref.symbol, "budget"))
    return PackedContext(snippets, references, dropped, budget_tokens, count(context.render()))


def _piece(hit: Hit, source: SourceReader | None) -> _Piece:
    chunk = hit.chunk
    span = chunk.end_line - chunk.start_line + 1
    text = source(hit) if source is not None else None
    if text is not None:
        file_lines = text.split("\n")
        if chunk.end_line <= len(file_lines):
            lines = file_lines[chunk.start_line - 1 : chunk.end_line]
            # An outline is shown as the chunker wrote it; everything else verbatim from git.
            if chunk.kind in _SUMMARY_KINDS and chunk.text.count("\n") + 1 < span:
                return _Piece(hit, chunk.text.split("\n"), summary=True)
            return _Piece(hit, lines, summary=False, file_lines=file_lines)
    lines = chunk.text.split("\n")
    if len(lines) == span:
        return _Piece(hit, lines, summary=False)
    # Text that is not a slice of the cited lines (an outline, or a part with a header) is
    # shown as is and never merged with neighbours.
    return _Piece(hit, lines, summary=True)


def _file_snippets(
    pieces: list[_Piece],
    skeleton_min_members: int,
    freshness: FreshnessCheck | None,
    count: TokenCounter,
    top: str = "",
) -> tuple[list[Snippet], list[tuple[Hit, DropReason]]]:
    """Snippets of one file (line order) and the hits the outline rule left out. The best
    hit of the whole context (``top``) is never folded into an outline: it is the answer, so
    it stays verbatim beside the outline of its class."""
    displaced: list[tuple[Hit, DropReason]] = []
    summaries = [p for p in pieces if p.summary]
    verbatim = [p for p in pieces if not p.summary]
    keep_summaries: list[_Piece] = []
    # Larger outlines first; a smaller one overlapping an outline already kept is left out.
    for s in sorted(summaries, key=lambda p: p.start - p.end):
        within = [p for p in verbatim if s.start <= p.start and p.end <= s.end]
        overlapping = [p for p in verbatim if p.start <= s.end and s.start <= p.end]
        inside = [p for p in within if p.hit.id != top]
        if len(within) >= skeleton_min_members and len(within) == len(overlapping):
            verbatim = [p for p in verbatim if p not in inside]
            displaced += [(p.hit, "in_skeleton") for p in inside]
            keep_summaries.append(s)
        elif overlapping or any(k.start <= s.end and s.start <= k.end for k in keep_summaries):
            displaced.append((s.hit, "members_shown"))
        else:
            keep_summaries.append(s)
    out = [_summary_snippet(p, freshness, count) for p in keep_summaries]
    out += _merge_verbatim(verbatim, freshness, count)
    out.sort(key=lambda s: s.citation.start_line)
    return out, displaced


def _merge_verbatim(
    pieces: list[_Piece], freshness: FreshnessCheck | None, count: TokenCounter
) -> list[Snippet]:
    groups: list[list[_Piece]] = []
    for p in sorted(pieces, key=lambda p: (p.start, -p.end)):
        if groups and (
            p.start <= max(q.end for q in groups[-1]) + 1 or _gap(groups[-1], p) is not None
        ):
            groups[-1].append(p)
        else:
            groups.append([p])
    out = []
    for group in groups:
        start = group[0].start
        lines: list[str] = []
        for i, p in enumerate(group):  # stitch: each piece adds only lines past what we have
            have_until = start + len(lines) - 1
            if p.start > have_until + 1:
                lines += _gap(group[:i], p) or []
                have_until = p.start - 1
            if p.end > have_until:
                lines += p.lines[have_until - p.start + 1 :]
        best = max(group, key=lambda p: p.hit.score)
        names = tuple(dict.fromkeys(p.hit.chunk.name for p in group))
        # from the hit's own citation, which may name its repository
        cite = replace(best.hit.citation, start_line=start, end_line=start + len(lines) - 1)
        snippet = Snippet(
            cite,
            "\n".join(lines),
            names,
            "code",
            tuple(p.hit.id for p in group),
            best.hit.score,
            best.hit.chunk.language,
            freshness=freshness(best.hit) if freshness else None,
            copies=tuple(dict.fromkeys(c for p in group for c in p.hit.copies)),
        )
        out.append(replace(snippet, tokens=count(render_snippet(snippet))))
    return out


def _gap(group: list[_Piece], piece: _Piece) -> list[str] | None:
    """The blank lines between ``group`` and the ``piece`` after it, when ``piece`` is another
    part of a definition the group ends with and only blank lines lie between: one snippet
    then shows the function whole. ``None`` otherwise, or when the file was not read (two
    neighbouring functions stay two snippets, each with its own citation)."""
    last = max(group, key=lambda q: q.end)
    end = last.end
    lines = next((q.file_lines for q in (*group, piece) if q.file_lines is not None), None)
    if (
        lines is None
        or piece.start <= end
        or piece.start - 1 > len(lines)
        or (piece.hit.chunk.name, piece.hit.chunk.kind)
        != (last.hit.chunk.name, last.hit.chunk.kind)
    ):
        return None
    between = lines[end : piece.start - 1]
    return between if all(not line.strip() for line in between) else None


def _summary_snippet(
    piece: _Piece, freshness: FreshnessCheck | None, count: TokenCounter
) -> Snippet:
    hit = piece.hit
    snippet = Snippet(
        hit.citation,
        "\n".join(piece.lines),
        (hit.chunk.name,),
        hit.chunk.kind,
        (hit.id,),
        hit.score,
        hit.chunk.language,
        freshness=freshness(hit) if freshness else None,
        copies=hit.copies,
    )
    return replace(snippet, tokens=count(render_snippet(snippet)))
