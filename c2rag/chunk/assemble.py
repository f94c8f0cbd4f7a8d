"""Turn the symbols of a parsed file into chunks.

* a function or method is one chunk, split into parts when it exceeds the token cap (nested
  definitions larger than half the cap then become chunks of their own);
* a class is a **skeleton** chunk — its text with method and nested-class bodies elided, so it
  shows the signature, docstring, fields and method signatures — plus the chunks of its members;
* everything outside symbols (imports, constants, top-level statements) forms the **module**
  chunk(s), so that no line of the file is unreachable.

The :class:`~c2rag.chunk.policy.ChunkPolicy` caps a skeleton to one chunk (members past the cap
listed by name) and shows long data statements of a module as their first line only.
"""

from __future__ import annotations

from tree_sitter import Node

from c2rag.chunk.data import is_data
from c2rag.chunk.names import header_end, python_docstring, python_module
from c2rag.chunk.policy import ChunkPolicy
from c2rag.chunk.source import Source
from c2rag.chunk.split import Part, Piece, Splitter
from c2rag.chunk.symbols import Symbol, SymbolWalker
from c2rag.types import Chunk, ChunkKind

__all__ = ["ChunkAssembler"]

_HEAD_CHARS = 120  # a data statement's first line as shown, at most


class ChunkAssembler:
    """Builds the chunks of one parsed file.

    Args:
        path: Repository-relative path written into each chunk.
        language: Language name written into each chunk.
        walker: Symbol walker of the file.
        splitter: Splitter of the file (source, token counter, caps).
        flags: Notes about the source copied into each chunk (``non_utf8``).
        policy: What chunk texts hold (skeleton cap, data statements).
    """

    def __init__(
        self,
        path: str,
        language: str,
        walker: SymbolWalker,
        splitter: Splitter,
        flags: tuple[str, ...] = (),
        policy: ChunkPolicy | None = None,
    ) -> None:
        self.policy = policy or ChunkPolicy()
        self.path = path
        self.language = language
        self.walker = walker
        self.splitter = splitter
        self.source: Source = splitter.source
        self.flags = flags

    def build(self, root: Node) -> list[Chunk]:
        """All chunks of the file, in file order (a symbol's chunk before its members')."""
        items = self.walker.walk(root)
        chunks: list[Chunk] = []
        pieces: list[Piece] = []
        for item in items:
            if isinstance(item, Symbol):
                chunks += self._symbol(item)
                pieces.append(Piece(item.start, item.end, replacement=""))
            else:
                pieces.append(self._statement(item))
        parts = self.splitter.layout(0, len(self.source.data), pieces)
        is_python = self.language == "python"
        name = python_module(self.path) if is_python else self.path
        docstring = python_docstring(root) if is_python else ""
        chunks += self._chunks(parts, "module", name, docstring=docstring)
        chunks.sort(key=lambda c: (c.start_byte, -c.end_byte, c.part))
        return chunks

    # -- symbols --------------------------------------------------------------------------

    def _symbol(self, symbol: Symbol) -> list[Chunk]:
        if symbol.kind == "class":
            return self._class(symbol)
        return self._function(symbol)

    def _region(self, symbol: Symbol) -> tuple[int, int]:
        return self.source.own_line_start(symbol.start), symbol.end

    def _header(self, symbol: Symbol) -> str:
        """Declaration line(s) repeated at the top of every part after the first."""
        source = self.source
        end = header_end(symbol.node, symbol.body)
        start = source.line_start(source.line_of(symbol.node.start_byte))
        return source.text(start, end).rstrip()

    def _class(self, symbol: Symbol) -> list[Chunk]:
        pieces: list[Piece] = []
        members: list[Symbol] = []
        for item in symbol.members:
            if isinstance(item, Symbol):
                members.append(item)
                pieces.append(Piece(item.start, item.end, replacement=self._elided(item)))
            else:
                pieces.append(Piece(item.start_byte, item.end_byte, node=item))
        start, end = self._region(symbol)
        cap = self.policy.skeleton_max_tokens
        splitter = self.splitter if cap is None else self.splitter.capped(cap)
        parts = splitter.layout(start, end, pieces, header=self._header(symbol))
        if cap is not None and len(parts) > 1:
            parts = [self._capped_skeleton(parts, members)]
        chunks = self._chunks(parts, "class", symbol.name, symbol=symbol)
        for member in members:
            chunks += self._symbol(member)
        return chunks

    def _capped_skeleton(self, parts: list[Part], members: list[Symbol]) -> Part:
        """The first part of a skeleton standing for the whole class: the members it does not
        show are named on one line (as many names as the hard cap allows)."""
        first, rest = parts[0], parts[1:]
        names = [_short(m.name) for m in members if m.start >= rest[0].start]
        lines = sum(p.text.count("\n") + 1 for p in rest)
        note = f"    ... {lines} more lines"
        count, hard = self.splitter.count, self.splitter.hard_max_tokens
        while names:
            candidate = f"{note}: {', '.join(names)}"
            if count(f"{first.text}\n{candidate}") <= hard:
                note = candidate
                break
            names = names[: len(names) // 2]
        text = f"{first.text}\n{note}"
        if count(text) > hard:
            text = first.text
        return Part(first.start, rest[-1].end, text)

    def _statement(self, node: Node) -> Piece:
        """A module-level statement's piece: verbatim, or its first line when it is data."""
        cap = self.policy.data_max_tokens
        if cap is None or not is_data(node, self.source, self.splitter.count, cap):
            return Piece(node.start_byte, node.end_byte, node=node)
        source = self.source
        first, last = source.lines_of(node.start_byte, node.end_byte)
        head = source.text(node.start_byte, source.line_end(first)).rstrip()[:_HEAD_CHARS]
        return Piece(
            node.start_byte,
            node.end_byte,
            replacement=f"{head} ...  ({last - first + 1} lines of data)",
        )

    def _function(self, symbol: Symbol) -> list[Chunk]:
        start, end = self._region(symbol)
        splitter = self.splitter
        if splitter.count(self.source.text(start, end)) <= splitter.max_tokens:
            parts = splitter.verbatim(start, end)
            return self._chunks(parts, symbol.kind, symbol.name, symbol=symbol)
        # Too large: cut at statement boundaries; large nested definitions leave the parent.
        chunks: list[Chunk] = []
        pieces: list[Piece] = []
        for item in self.walker.nested(symbol):
            nested = item if isinstance(item, Symbol) else None
            if nested is not None and self._is_large(nested):
                chunks += self._symbol(nested)
                pieces.append(Piece(nested.start, nested.end, replacement=self._elided(nested)))
            else:
                node = item.outer if isinstance(item, Symbol) else item
                pieces.append(Piece(node.start_byte, node.end_byte, node=node))
        parts = splitter.layout(start, end, pieces, header=self._header(symbol))
        return self._chunks(parts, symbol.kind, symbol.name, symbol=symbol) + chunks

    def _is_large(self, symbol: Symbol) -> bool:
        start, end = self._region(symbol)
        return self.splitter.count(self.source.text(start, end)) > self.splitter.max_tokens // 2

    def _elided(self, symbol: Symbol) -> str | None:
        """``symbol``'s text with its body replaced by ``{ ... }`` or ``...``, or ``None`` to
        keep it whole (no body, or an expression body such as ``fun f() = 1``)."""
        body = symbol.body
        if body is None:
            return None
        source = self.source
        opening = source.data[body.start_byte : body.start_byte + 1]
        if opening == b"{":
            marker = "{ ... }"
        elif self.language in {"python", "ruby"}:
            marker = "..."
        else:
            return None
        text = source.text(symbol.start, body.start_byte) + marker
        text += source.text(body.end_byte, symbol.end)
        if self.splitter.count(text) > self.splitter.max_tokens // 2:
            # Long decorators or signature: the declaration's first line must do.
            line_end = source.line_end(source.line_of(symbol.node.start_byte))
            text = f"{source.text(symbol.node.start_byte, line_end).rstrip()} {marker}"
        return text

    # -- records ---------------------------------------------------------------------------

    def _chunks(
        self,
        parts: list[Part],
        kind: ChunkKind,
        name: str,
        *,
        symbol: Symbol | None = None,
        docstring: str = "",
    ) -> list[Chunk]:
        source = self.source
        chunks = []
        for number, part in enumerate(parts, start=1):
            first, last = source.lines_of(part.start, part.end)
            chunks.append(
                Chunk(
                    path=self.path,
                    language=self.language,
                    kind=kind,
                    name=name,
                    start_line=first,
                    end_line=last,
                    text=part.text,
                    signature=symbol.signature if symbol else "",
                    docstring=symbol.docstring if symbol else docstring,
                    start_byte=part.start,
                    end_byte=part.end,
                    parent=symbol.parent if symbol else "",
                    part=number,
                    parts=len(parts),
                    flags=self.flags,
                )
            )
        return chunks


def _short(name: str) -> str:
    """A member's own name from its qualified name (``.``, ``::`` or ``#`` separated)."""
    for separator in ("::", "#", "."):
        name = name.rsplit(separator, 1)[-1]
    return name
