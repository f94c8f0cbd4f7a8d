"""Lay out a region of a file as one chunk text, or as token-capped parts.

A region (a function, a class, the whole module) holds *pieces*: statements, members and nested
definitions, each either kept verbatim, replaced (a method body elided in a class skeleton) or
dropped (a function left out of the module chunk). The pieces are widened into contiguous
*units* that start on their own line, so the region's bytes are covered exactly once. When the
region's text exceeds ``max_tokens`` it is cut between units; an oversized unit is cut between
its own children, then between lines, and a single line longer than the hard cap between bytes.
Every part after the first starts with the definition's header (its signature line) unless
``repeat_header`` is off, and a part too small to stand alone (a lone ``return``) is merged
into a neighbour as long as the hard cap allows.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tree_sitter import Node

from c2rag.chunk.source import Source

__all__ = ["Part", "Piece", "Splitter", "estimate_tokens"]

# ASCII punctuation: mostly one BPE token per mark in code.
_PUNCTUATION = bytes(b for b in range(33, 127) if not chr(b).isalnum() and chr(b) != "_")
_WHITESPACE = b" \t\r\n\x0b\x0c"
_NON_SPACE = re.compile(rb"[^ \t\r\n\x0b\x0c]")
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t\r\f\v]*\n)+")
_BLANK_RUN = re.compile(r"\n[ \t\r\f\v]*\n(?:[ \t\r\f\v]*\n)+")
_MAX_DESCENT = 48


def _is_comment(unit: _Unit) -> bool:
    return unit.node is not None and "comment" in unit.node.type


def estimate_tokens(text: str) -> int:
    """A cheap stand-in for a BPE tokenizer's count on source code.

    ``0.9`` per punctuation mark, ``1`` per newline and ``1`` per 4.5 bytes of words: on
    chunks of real code (Python, C, C++, JavaScript) it is within 0.97-1.35× of a 100k-word BPE
    vocabulary (tiktoken ``cl100k_base``) for 80% of chunks, median 1.16×, erring high so
    that caps hold. Byte counting with :meth:`bytes.translate` keeps it ~10× cheaper than a
    regex scan.
    """
    data = text.encode("utf-8", "surrogatepass")
    punctuation = len(data) - len(data.translate(None, _PUNCTUATION))
    words = len(data.translate(None, _PUNCTUATION + _WHITESPACE))
    return math.ceil(0.9 * punctuation + data.count(b"\n") + words / 4.5)


@dataclass(frozen=True, slots=True)
class Piece:
    """Something inside a region: ``replacement`` is ``None`` to keep its bytes, ``""`` to drop
    them, or the text that stands for them; ``node`` lets an oversized piece be cut inside."""

    start: int
    end: int
    replacement: str | None = None
    node: Node | None = None


@dataclass(frozen=True, slots=True)
class Part:
    """One laid-out chunk text with the file bytes it stands for (trimmed of blank lines)."""

    start: int
    end: int
    text: str


@dataclass(slots=True)
class _Unit:
    start: int
    end: int
    text: str
    tokens: int
    kept: tuple[tuple[int, int], ...]  # byte ranges whose content the text shows
    node: Node | None = None
    depth: int = 0
    replaced: bool = False
    """The text is not the bytes it stands for (elided or dropped): it cannot be cut."""


class Splitter:
    """Lays out regions of one file.

    Args:
        source: The file.
        count_tokens: Token counter of the embedding model.
        max_tokens: Target size of a chunk.
        hard_max_tokens: Size no chunk text exceeds; a single unit (a statement that cannot be
            cut at a statement boundary) may grow up to it before being cut between lines.
        repeat_header: Start every part after the first with the region's header.
        min_part_tokens: Parts with fewer tokens (at most a quarter of ``max_tokens``) are
            merged into a neighbour, which may then pass ``max_tokens`` by a quarter (never the
            hard cap).
        min_part_lines: Parts with fewer non-blank lines and under a quarter of
            ``max_tokens`` are merged likewise.
    """

    def __init__(
        self,
        source: Source,
        count_tokens: Callable[[str], int],
        *,
        max_tokens: int,
        hard_max_tokens: int,
        repeat_header: bool = True,
        min_part_tokens: int = 0,
        min_part_lines: int = 0,
    ) -> None:
        self.source = source
        self.count = count_tokens
        self.max_tokens = max_tokens
        self.hard_max_tokens = hard_max_tokens
        self.repeat_header = repeat_header
        self.min_part_tokens = min_part_tokens
        self.min_part_lines = min_part_lines

    def capped(self, max_tokens: int) -> Splitter:
        """The same splitter with a smaller target size (at most this one's)."""
        return Splitter(
            self.source,
            self.count,
            max_tokens=min(max_tokens, self.max_tokens),
            hard_max_tokens=self.hard_max_tokens,
            repeat_header=self.repeat_header,
            min_part_tokens=self.min_part_tokens,
            min_part_lines=self.min_part_lines,
        )

    def verbatim(self, start: int, end: int) -> list[Part]:
        """The region ``[start, end)`` as one part, trimmed of blank lines (no counting)."""
        part = self._part([self._unit(start, end, None, 0, counted=False)], "")
        return [part] if part is not None else []

    def layout(
        self, start: int, end: int, pieces: Sequence[Piece], *, header: str = ""
    ) -> list[Part]:
        """Chunk texts for the region ``[start, end)``; blank parts are left out."""
        units = self._units(start, end, pieces, depth=0, counted=False)
        whole = "".join(u.text for u in units)
        if self.count(whole) <= self.max_tokens:
            part = self._part(units, "")
            return [part] if part is not None else []
        units = self._at_line_starts(
            self._units(start, end, self._expand(pieces), depth=0, counted=False)
        )
        for unit in units:
            unit.tokens = self.count(unit.text)
        if not self.repeat_header:
            header = ""
        header_tokens = self.count(header) + 1 if header else 0
        if header_tokens > self.max_tokens // 2:  # a huge signature: repeat its first line only
            header = header.lstrip("\n").split("\n", 1)[0]
            header_tokens = self.count(header) + 1
            if header_tokens > self.max_tokens // 2:
                header, header_tokens = "", 0
        units = self._shrink(units, self.max_tokens - header_tokens)
        groups = [
            fitted
            for group in self._pack(units, header_tokens)
            for fitted in self._fit(group, header if group[0] is not units[0] else "")
        ]
        groups = self._merge_small(groups, units[0], header_tokens)
        parts = [
            self._part(group, self._header_for(group, units[0], header, header_tokens))
            for group in groups
            if any(u.text.strip() for u in group)
        ]
        return [p for p in parts if p is not None]

    # -- units --------------------------------------------------------------------------

    def _units(
        self, start: int, end: int, pieces: Sequence[Piece], depth: int, *, counted: bool = True
    ) -> list[_Unit]:
        """Contiguous units over ``[start, end)``, token counts left at -1 unless ``counted``."""
        source = self.source
        pieces = [p for p in pieces if start <= p.start < p.end <= end]
        if not pieces:
            return [self._unit(start, end, None, depth, counted=counted)]
        bounds = [start]
        for previous, piece in itertools.pairwise(pieces):
            bounds.append(max(source.own_line_start(piece.start), previous.end))
        bounds.append(end)
        units = []
        for piece, lo, hi in zip(pieces, bounds, bounds[1:], strict=False):
            if piece.replacement is None:
                units.append(self._unit(lo, hi, piece.node, depth, counted=counted))
                continue
            # Text before and after a replaced piece stays cuttable in units of its own.
            head = max(lo, source.own_line_start(piece.start))
            if not source.is_blank(lo, head):
                units.append(self._unit(lo, head, None, depth, counted=counted))
                lo = head
            tail = hi if source.is_blank(piece.end, hi) else piece.end
            text = source.text(lo, piece.start) + piece.replacement + source.text(piece.end, tail)
            kept = ((lo, tail),) if piece.replacement else ((lo, piece.start), (piece.end, tail))
            tokens = self.count(text) if counted else -1
            units.append(_Unit(lo, tail, text, tokens, kept, None, depth, replaced=True))
            if tail < hi:
                units.append(self._unit(tail, hi, None, depth, counted=counted))
        return units

    def _unit(
        self, start: int, end: int, node: Node | None, depth: int, *, counted: bool = True
    ) -> _Unit:
        text = self.source.text(start, end)
        tokens = self.count(text) if counted else -1
        return _Unit(start, end, text, tokens, ((start, end),), node, depth)

    def _shrink(self, units: list[_Unit], limit: int) -> list[_Unit]:
        """Cut units above ``limit`` tokens: between children, then lines, then bytes."""
        out: list[_Unit] = []
        stack = list(reversed(units))
        while stack:
            unit = stack.pop()
            if unit.tokens <= max(limit, 1) or unit.replaced:
                out.append(unit)  # small enough, or a replaced text that cannot be cut
                continue
            children = self._children(unit)
            if children is not None:
                stack.extend(reversed(children))
            elif self.source.line_of(unit.start) != self.source.lines_of(unit.start, unit.end)[1]:
                stack.extend(reversed(self._lines(unit)))
            elif unit.tokens + self.max_tokens - limit > self.hard_max_tokens:
                out.extend(self._bytes(unit, limit))
            else:
                out.append(unit)  # one line: kept whole up to the hard cap
        return out

    def _children(self, unit: _Unit) -> list[_Unit] | None:
        node = unit.node
        if node is None or unit.depth >= _MAX_DESCENT:
            return None
        inside = [
            Piece(c.start_byte, c.end_byte, node=c)
            for c in self._cut_nodes(node.named_children, unit.depth)
            if unit.start <= c.start_byte < c.end_byte <= unit.end
        ]
        if not inside or (
            len(inside) == 1
            and inside[0].node is not None
            and inside[0].node.named_child_count == 0
        ):
            return None
        return self._at_line_starts(self._units(unit.start, unit.end, inside, unit.depth + 1))

    def _at_line_starts(self, units: list[_Unit]) -> list[_Unit]:
        """``units`` joined so that each starts a line: children that share a line (the tokens
        of a macro body, ``a = 1; b = 2``) are never cut apart. A joined unit is cut between
        lines (or between the first one's children) when it is still too large."""
        source = self.source
        out: list[_Unit] = []
        for unit in units:
            line_start = source.line_start(source.line_of(unit.start))
            mid_line = not source.is_blank(line_start, unit.start)
            if not out or not mid_line or unit.replaced or out[-1].replaced:
                out.append(unit)
                continue
            last = out[-1]
            text = last.text + unit.text
            # the first unit's node still cuts the joined text (its last child takes the rest)
            out[-1] = _Unit(
                last.start, unit.end, text, self.count(text), ((last.start, unit.end),),
                last.node, last.depth, replaced=False,
            )  # fmt: skip
        return out

    def _cut_nodes(self, nodes: Sequence[Node], depth: int) -> list[Node]:
        """``nodes`` to cut between. One that opens on a line another starts (the ``{`` block of
        ``for x := range xs {``, a dict literal after ``x = ``) and spans several lines stands
        for its own named children: a cut then falls at the start of a statement's line, and
        a header line stays with the statements it opens."""
        source = self.source
        out: list[Node] = []
        for node in nodes:
            start = node.start_byte
            if (
                depth < _MAX_DESCENT
                and node.named_child_count
                and not source.is_blank(source.line_start(source.line_of(start)), start)
                and source.line_of(start) != source.line_of(max(start, node.end_byte - 1))
            ):
                out.extend(self._cut_nodes(node.named_children, depth + 1))
            else:
                out.append(node)
        return out

    def _expand(self, pieces: Sequence[Piece]) -> list[Piece]:
        """``pieces`` with each verbatim node cut as :meth:`_cut_nodes` says."""
        out: list[Piece] = []
        for piece in pieces:
            if piece.node is None or piece.replacement is not None:
                out.append(piece)
                continue
            out += [
                Piece(n.start_byte, n.end_byte, node=n) for n in self._cut_nodes([piece.node], 0)
            ]
        return out

    def _lines(self, unit: _Unit) -> list[_Unit]:
        source = self.source
        first, last = source.lines_of(unit.start, unit.end)
        return [
            self._unit(
                max(unit.start, source.line_start(line)),
                min(unit.end, source.line_end(line)),
                None,
                unit.depth,
            )
            for line in range(first, last + 1)
        ]

    def _bytes(self, unit: _Unit, limit: int) -> list[_Unit]:
        """Cut one overlong line at UTF-8 character boundaries into ~``limit``-token pieces."""
        data = self.source.data
        size = max(1, (unit.end - unit.start) * max(limit, 1) // max(unit.tokens, 1) * 9 // 10)
        out = []
        position = unit.start
        while position < unit.end:
            cut = min(unit.end, position + size)
            while position < cut < unit.end and 0x80 <= data[cut] < 0xC0:
                cut -= 1  # never cut inside a multi-byte character
            if cut <= position:
                cut = min(unit.end, position + size)
            piece = self._unit(position, cut, None, unit.depth)
            # Token density varies along a line (escapes, base64, a URL): a piece cut by the
            # line's average can still overflow, so it is cut again until it fits.
            if piece.tokens > limit and cut - position > 1 and piece.tokens < unit.tokens:
                out.extend(self._bytes(piece, limit))
            else:
                out.append(piece)
            position = cut
        return out

    # -- parts --------------------------------------------------------------------------

    def _pack(self, units: list[_Unit], header_tokens: int) -> list[list[_Unit]]:
        groups: list[list[_Unit]] = []
        current: list[_Unit] = []
        size = 0
        stack = list(reversed(units))
        while stack:
            unit = stack.pop()
            if current and size + unit.tokens > self.max_tokens:
                # A part that would end small (a signature and a loop's header) takes the
                # first statements of the unit that does not fit, cut between its children.
                children = self._children(unit) if self._is_small(current) else None
                if children is not None:
                    stack.extend(reversed(children))
                    continue
                # a comment ending the part introduces the next statement: it goes along
                carried: list[_Unit] = []
                while (
                    len(current) > 1
                    and _is_comment(current[-1])
                    and sum(u.tokens for u in carried) + current[-1].tokens <= self.max_tokens // 4
                ):
                    carried.insert(0, current.pop())  # a short comment; not a page of docs
                groups.append(current)
                current, size = carried, header_tokens + sum(u.tokens for u in carried)
                if current and size + unit.tokens > self.max_tokens:
                    groups.append(current)  # the comment alone, rather than past the cap
                    current, size = [], header_tokens
            current.append(unit)
            size += unit.tokens
        if current:
            groups.append(current)
        return groups

    def _is_small(self, group: list[_Unit]) -> bool:
        """Too small to stand alone as a part: below ``min_part_tokens``, or below
        ``min_part_lines`` and a quarter of the target (both relative to a tiny target)."""
        if self.min_part_tokens <= 0 and self.min_part_lines <= 0:
            return False
        floor = min(self.min_part_tokens, self.max_tokens // 4)
        lines = sum(1 for u in group for line in u.text.split("\n") if line.strip())
        size = sum(u.tokens for u in group)
        return size < floor or (lines < self.min_part_lines and size < self.max_tokens // 4)

    def _merge_small(
        self, groups: list[list[_Unit]], first: _Unit, header_tokens: int
    ) -> list[list[_Unit]]:
        """Merge each small part (below ``min_part_tokens``, or below ``min_part_lines`` and a
        quarter of the target) into the smaller of its neighbours when the result stays within
        1.25 × ``max_tokens`` and the hard cap; when neither fits, grow it with the trailing
        statements of the part before (which must stay a real part)."""
        if len(groups) < 2 or (self.min_part_tokens <= 0 and self.min_part_lines <= 0):
            return groups

        def tokens(group: list[_Unit]) -> int:
            return sum(u.tokens for u in group) + (0 if group[0] is first else header_tokens)

        # a merged part may pass the target by a quarter, never the hard cap
        limit = min(self.hard_max_tokens, self.max_tokens + self.max_tokens // 4)

        def fits(group: list[_Unit]) -> bool:
            # unit counts are not quite additive under a real tokenizer: count the text
            text = "".join(u.text for u in group)
            extra = 0 if group[0] is first else header_tokens
            return tokens(group) <= limit and self.count(text) + extra <= limit

        out = list(groups)
        i = 0
        while i < len(out) and len(out) > 1:
            if not self._is_small(out[i]):
                i += 1
                continue
            neighbours = [j for j in (i - 1, i + 1) if 0 <= j < len(out)]
            fitting = [j for j in neighbours if fits(out[min(i, j)] + out[max(i, j)])]
            if not fitting:
                # full neighbours (the target is the model's window): move trailing units of
                # the part before into this one, as long as that part stays a real part
                previous, current = (out[i - 1], out[i]) if i > 0 else ([], [])
                while (
                    self._is_small(current)
                    and len(previous) > 1
                    and fits([previous[-1], *current])
                    and not self._is_small(previous[:-1])
                ):
                    previous, current = previous[:-1], [previous[-1], *current]
                while (
                    current is not out[i]
                    and len(previous) > 1
                    and _is_comment(previous[-1])
                    and fits([previous[-1], *current])
                ):
                    previous, current = previous[:-1], [previous[-1], *current]
                if i > 0:
                    out[i - 1], out[i] = previous, current
                i += 1
                continue
            j = min(fitting, key=lambda n: tokens(out[n]))
            lo = min(i, j)
            out[lo : lo + 2] = [out[lo] + out[lo + 1]]
            i = lo  # the merged part may itself still be small
        return out

    def _header_for(self, group: list[_Unit], first: _Unit, header: str, tokens: int) -> str:
        """The header for a part, unless it is the first part or would pass the hard cap."""
        if group[0] is first or not header:
            return ""
        if tokens + sum(u.tokens for u in group) > self.hard_max_tokens:
            return ""  # an uncuttable unit fills the part: its text matters more
        return header

    def _fit(self, group: list[_Unit], header: str) -> list[list[_Unit]]:
        """Halve a packed group until the counter agrees it fits: unit counts are added up
        while packing, and a real tokenizer's counts are not quite additive."""
        if len(group) == 1:
            return [group]
        text = "".join(u.text for u in group)
        if self.count(f"{header}\n{text}" if header else text) <= self.max_tokens:
            return [group]
        middle = len(group) // 2
        return self._fit(group[:middle], header) + self._fit(group[middle:], header)

    def _part(self, units: list[_Unit], header: str) -> Part | None:
        data = self.source.data
        first = last = None
        for lo, hi in (r for u in units for r in u.kept):
            found = _NON_SPACE.search(data, lo, hi)  # searched in place: no copy of the range
            if found is None:
                continue
            tail = hi
            while data[tail - 1 : tail].isspace():
                tail -= 1
            first = found.start() if first is None else min(first, found.start())
            last = tail if last is None else max(last, tail)
        if first is None or last is None:
            return None
        body = _LEADING_BLANK_LINES.sub("", "".join(u.text for u in units)).rstrip()
        if any(u.replaced and len(u.kept) > 1 for u in units):  # a piece was dropped: close the gap
            body = _BLANK_RUN.sub("\n\n", body)
        text = f"{header}\n{body}" if header else body
        return Part(self.source.own_line_start(first), last, text)
