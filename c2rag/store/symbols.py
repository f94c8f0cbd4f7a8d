"""Per-chunk symbol facts (path, qualified name, kind, lines) and name lookups over them.

The symbol channel matches names a dialogue mentions (``getUserById``, ``RetryPolicy.backoff``,
``src/io/upload.py``) against these; neighbour expansion finds where a called name is defined.
The table is saved inside the lexical index file, so it stays in step with it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from c2rag.types import Chunk

__all__ = ["SymbolInfo", "SymbolTable", "name_parts", "short_name"]

_SEP = re.compile(r"\.|::|#|/|\\")
_DEFINING_KINDS = frozenset({"function", "method", "class"})


def _in_order(wanted: list[str], parts: list[str]) -> bool:
    """Whether ``wanted`` occurs in ``parts`` in order (other parts may come between)."""
    remaining = iter(parts)
    return all(any(w == p for p in remaining) for w in wanted)


def name_parts(name: str) -> list[str]:
    """Components of a qualified name or path (``a.b::C#d`` → ``[a, b, C, d]``)."""
    return [p for p in _SEP.split(name) if p]


def short_name(name: str) -> str:
    """The last component of a qualified name (``Class.method``, ``Cls::find`` → ``find``)."""
    parts = name_parts(name)
    return parts[-1] if parts else name


@dataclass(frozen=True, slots=True)
class SymbolInfo:
    """What is known about one chunk without fetching it from the vector store."""

    path: str
    name: str
    kind: str
    language: str
    start_line: int
    end_line: int
    parent: str = ""
    text_id: str = ""
    """The start of the chunk text's content hash: equal for the same code at two paths
    (a copied file)."""

    @classmethod
    def from_chunk(cls, chunk: Chunk) -> SymbolInfo:
        return cls(
            chunk.path,
            chunk.name,
            chunk.kind,
            chunk.language,
            chunk.start_line,
            chunk.end_line,
            chunk.parent,
            chunk.content_hash[:_TEXT_ID_CHARS],
        )

    @property
    def short_name(self) -> str:
        """The last component of the qualified name (``Class.method`` → ``method``)."""
        return short_name(self.name)

    @property
    def defines(self) -> bool:
        """Whether the chunk is the definition of a named symbol (not a module or window)."""
        return self.kind in _DEFINING_KINDS


_FIELDS = ("path", "name", "kind", "language", "start_line", "end_line", "parent", "text_id")
_TEXT_ID_CHARS = 16  # 64 bits: no accidental collision among any repository's chunks


class SymbolTable:
    """Symbol facts per chunk id with lookups by name and path (all case-insensitive)."""

    def __init__(self) -> None:
        self._info: dict[str, SymbolInfo] = {}
        self._by_short: defaultdict[str, set[str]] = defaultdict(set)
        self._by_path: defaultdict[str, set[str]] = defaultdict(set)
        self._text_paths: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._copied: frozenset[str] | None = None

    def __contains__(self, chunk_id: object) -> bool:
        return chunk_id in self._info

    def __len__(self) -> int:
        return len(self._info)

    def __iter__(self) -> Iterator[tuple[str, SymbolInfo]]:
        return iter(self._info.items())

    def ids(self) -> list[str]:
        return list(self._info)

    def get(self, chunk_id: str) -> SymbolInfo | None:
        return self._info.get(chunk_id)

    def add(self, chunk_id: str, info: SymbolInfo) -> None:
        self.remove(chunk_id)
        self._info[chunk_id] = info
        if info.defines:
            self._by_short[info.short_name.lower()].add(chunk_id)
        self._by_path[info.path].add(chunk_id)
        if info.text_id:
            self._text_paths[info.text_id][info.path] += 1
            self._copied = None

    def remove(self, chunk_id: str) -> None:
        info = self._info.pop(chunk_id, None)
        if info is None:
            return
        self._by_short[info.short_name.lower()].discard(chunk_id)
        self._by_path[info.path].discard(chunk_id)
        paths = self._text_paths.get(info.text_id)
        if paths is not None:
            paths[info.path] -= 1
            if paths[info.path] <= 0:
                del paths[info.path]
            if not paths:
                del self._text_paths[info.text_id]
            self._copied = None

    @property
    def copied(self) -> frozenset[str]:
        """Text ids (:attr:`SymbolInfo.text_id`) found in more than one file: copied code."""
        if self._copied is None:
            self._copied = frozenset(t for t, paths in self._text_paths.items() if len(paths) > 1)
        return self._copied

    # -------------------------------------------------------------------------------- lookups
    def defining(self, name: str) -> list[str]:
        """Ids of functions, methods and classes whose last name component is ``name``."""
        return sorted(self._by_short.get(name.lower(), ()))

    def in_path(self, path: str) -> list[str]:
        """Ids of every chunk of one file, in line order."""
        ids = self._by_path.get(path, set())
        return sorted(ids, key=lambda i: self._info[i].start_line)

    def paths(self) -> list[str]:
        return [p for p, ids in self._by_path.items() if ids]

    def match(self, mention: str, *, prefix: bool = True) -> list[tuple[str, float]]:
        """Chunks a mentioned name refers to, with how exactly it matched.

        Scores: 1.0 whole qualified name or path; 0.9 qualified-name suffix
        (``Policy.backoff`` ↔ ``pkg.Policy.backoff``) or path suffix (``upload.py``);
        0.8 last component (0.6 for a constructor named like its class); 0.5 prefix of the
        last component (``getUser`` ↔ ``getUserById``, when ``prefix`` is true and the mention
        has at least 4 characters).

        Args:
            mention: An identifier, dotted/qualified name or path.
            prefix: Also match names that start with the mention.

        Returns:
            ``(id, score)`` pairs, best first.
        """
        want = mention.lower().strip()
        parts = [p.lower() for p in name_parts(want)]
        if not parts:
            return []
        scores: dict[str, float] = {}

        def put(ids: set[str] | list[str], score: float) -> None:
            for i in ids:
                if scores.get(i, 0.0) < score:
                    scores[i] = score

        if "/" in want or "\\" in want or _looks_like_file(want):
            for path, ids in self._by_path.items():
                low = path.lower()
                if low == want:
                    put(ids, 1.0)
                elif low.endswith("/" + want):
                    put(ids, 0.9)
        last = parts[-1]
        loose: list[str] = []
        for cid in self._by_short.get(last, ()):
            qual = [p.lower() for p in name_parts(self._info[cid].name)]
            if qual == parts:
                put([cid], 1.0)
            elif len(parts) > 1 and qual[-len(parts) :] == parts:
                put([cid], 0.9)
            elif len(parts) == 1:
                # A Java/C#/C++ constructor is named like its class: a question naming the
                # class ("how does ConcurrentHashMap resize?") is about the class first.
                put([cid], 0.6 if len(qual) > 1 and qual[-2] == last else 0.8)
            elif _in_order(parts[:-1], self._qualifiers(cid, qual)):
                loose.append(cid)
        if not scores:
            # ``requests.get`` is ``requests.api.get``; Rust's ``Context::context`` is
            # implemented as ``Result::context`` in context.rs: the qualifiers are there, in
            # order, in the name or the path, with other parts between.
            put(loose, 0.85)
        if prefix and len(parts) == 1 and len(last) >= 4:
            for short, ids in self._by_short.items():
                if short != last and short.startswith(last):
                    put(ids, 0.5)
        return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))

    def _qualifiers(self, cid: str, qual: list[str]) -> list[str]:
        """What qualifies a definition: its path's components (file name without extension),
        then its qualified name's parts before the last."""
        path = [p.lower() for p in self._info[cid].path.split("/")]
        if path:
            path[-1] = path[-1].rsplit(".", 1)[0]
        return [*path, *qual[:-1]]

    # ---------------------------------------------------------------------------- persistence
    def to_json(self) -> dict[str, Any]:
        """Column-wise form (compact for tens of thousands of chunks)."""
        ids = list(self._info)
        paths = sorted({self._info[i].path for i in ids})
        path_no = {p: n for n, p in enumerate(paths)}
        cols: dict[str, Any] = {"ids": ids, "paths": paths}
        for f in _FIELDS:
            values = [getattr(self._info[i], f) for i in ids]
            cols[f] = [path_no[v] for v in values] if f == "path" else values
        return cols

    @classmethod
    def from_json(cls, cols: dict[str, Any]) -> SymbolTable:
        table = cls()
        paths = cols["paths"]
        columns = [cols[f] for f in _FIELDS]
        for cid, *values in zip(cols["ids"], *columns, strict=True):
            values[0] = paths[values[0]]
            table.add(cid, SymbolInfo(*values))
        return table


def _looks_like_file(text: str) -> bool:
    head, _, ext = text.rpartition(".")
    return bool(head) and ext in _EXTENSIONS


_EXTENSION_WORDS = (
    "py pyi js jsx mjs cjs ts tsx java go rs c h cc cpp hpp cs rb php kt kts sh bash md toml"
    " yaml yml json cfg ini txt rst sql"
)
_EXTENSIONS = frozenset(_EXTENSION_WORDS.split())
