"""File-level localization: which files (and which functions in them) a bug report is about.

An agent that plans an edit needs files, not chunks. :func:`localize` reads a report (an
issue, a stack trace, a log, a code fragment) and ranks files from four kinds of evidence:

* **frames**: stack frames whose path maps onto an indexed file (by path suffix) and whose
  line falls in a chunk; the frame nearest the error counts most, and the definitions that
  frame's function calls get a share (a bug often returns a bad value that crashes its caller);
* **lexical**: BM25 over the *whole* text (boilerplate of Python frames reduced to the file
  and function names);
* **symbol**: every code name the text mentions, matched against definitions and paths;
* **dense**: the embedding of the text, or when it does not fit the model's window, of the
  lines that carry the most (title, exception lines, first paragraph, frame functions, lines
  that name code; see :func:`c2rag.retrieve.evidence.dense_window`).

Each channel ranks chunks; a file's rank in a channel is the rank of its best chunk. Files and
functions are scored by weighted reciprocal rank over channels plus the frame strengths, so
each score is a sum of named contributions, reported as :class:`Evidence`. Deterministic: no
sampling, ties broken by path and name.
"""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from c2rag.errors import GitError
from c2rag.retrieve.arrange import asks_for_tests, is_prose_or_data, is_test_code
from c2rag.retrieve.channels import (
    Mention,
    dense_channel,
    lexical_channel,
    symbol_channel,
)
from c2rag.retrieve.evidence import (
    Frame,
    ReportEvidence,
    dense_window,
    extract_evidence,
    lexical_query,
)
from c2rag.retrieve.filters import SearchFilters
from c2rag.retrieve.neighbours import callees
from c2rag.store.symbols import SymbolInfo, SymbolTable
from c2rag.types import Citation

if TYPE_CHECKING:
    from c2rag.retrieve.retriever import CodeRetriever

__all__ = [
    "Evidence",
    "FileLocation",
    "Localization",
    "LocalizeWeights",
    "SymbolLocation",
    "localize",
]

logger = logging.getLogger(__name__)

_PROMPT_ALLOWANCE = 48
_DEFINING = ("function", "method", "class")
# A release suffix on a directory: Go's module cache (cobra@v1.6.1), gems and unpacked
# archives (rack-2.2.22, requests-2.31.0).
_RELEASE = re.compile(r"(?:@v?|-v?)\d+(?:\.\d+)*(?:[-+.]\w+)*$")
# Frames nearer the error than this (in-repository frames only) pass a share to their callees.
_CALLEE_FRAMES = 3
# A symbol-channel score at least this high is an exact (qualified) name of a definition.
_EXACT_NAME = 0.9
# A report whose title names docs or build files may need them edited. Narrower than what
# makes a search question about prose: "version" and "markdown" (a package's name) are in
# many titles of code bugs.
_DOCS_TITLE = re.compile(
    r"\b(docs?|documentation|readme|changelog|typos?|makefile|dockerfile|pyproject|tox)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class LocalizeWeights:
    """How much each kind of evidence counts (tuned on the benchmark's tuning packages).

    Attributes:
        frame: Weight of a stack frame's strength (1.0 for the in-repository frame nearest
            the error, ``frame_decay`` times less for each caller above it).
        dense: Weight of the dense channel's reciprocal rank.
        lexical: Weight of BM25's reciprocal rank.
        symbol: Weight of the symbol channel's reciprocal rank.
        k: Reciprocal-rank constant: a channel's rank ``r`` contributes ``weight / (k + r)``.
        frame_decay: Strength kept per step away from the error.
        callee: Share of a frame's strength given to the definitions its function calls.
        named: Strength, as a source of callee evidence, of a definition the text names by
            its exact (qualified) name: a report saying ``parse()`` returns the wrong value
            is often about a function ``parse`` calls.
        file_share: Share of its file's score added to a function's own score when functions
            are ranked across files.
        test_prior: Multiplier of the scores of test files (``tests/``, ``test_*.py``, ...):
            a report's calls and names recur in the tests that exercise them, but the fix
            goes in the code. 1.0 when the report's title is about tests or the filters
            name paths.
        prose_prior: Multiplier of the scores of documentation and configuration/build/data
            files (Markdown, reST, YAML, a Makefile, ...), which quote the same calls; 1.0
            when the title names docs or build files ("docs", "README", "Makefile", ...) or
            the filters name paths or kinds.
        depth: How deep each channel searches.
    """

    frame: float = 0.5
    dense: float = 1.0
    lexical: float = 1.5
    symbol: float = 0.5
    k: float = 10.0
    frame_decay: float = 0.6
    callee: float = 0.3
    named: float = 0.0
    file_share: float = 0.5
    test_prior: float = 0.2
    prose_prior: float = 0.2
    depth: int = 100

    def __post_init__(self) -> None:
        values = {
            n: getattr(self, n)
            for n in (
                "frame",
                "dense",
                "lexical",
                "symbol",
                "callee",
                "named",
                "file_share",
                "test_prior",
                "prose_prior",
            )
        }
        bad = {n: v for n, v in values.items() if v < 0}
        if bad or self.k <= 0 or self.depth <= 0 or not 0 < self.frame_decay <= 1:
            msg = (
                f"LocalizeWeights: weights must be >= 0, k and depth > 0, 0 < frame_decay <= 1 "
                f"(got {bad or ''} k={self.k} depth={self.depth} frame_decay={self.frame_decay})"
            )
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class Evidence:
    """One named contribution to a score: ``source`` is ``frame``, ``callee``, ``dense``,
    ``lexical``, ``symbol`` or ``prior`` (a test or documentation file stepping back);
    ``detail`` says what matched; ``score`` is what it added (negative for a prior)."""

    source: str
    detail: str
    score: float

    def __str__(self) -> str:
        return f"{self.source} +{self.score:.3f}: {self.detail}"


@dataclass(frozen=True)
class SymbolLocation:
    """A function, method or class to look at, with where and why.

    Attributes:
        name: Qualified name.
        kind: ``function``, ``method`` or ``class``.
        path: Repository-relative file.
        start_line: First line (of its first part when it was split).
        end_line: Last line (of its last part).
        score: Its own evidence plus ``file_share`` of its file's score.
        citations: ``path:start-end@sha`` of each indexed part.
        evidence: The contributions to its own score, largest first.
        text: Its indexed code (the parts' texts, in order, when it was split).
    """

    name: str
    kind: str
    path: str
    start_line: int
    end_line: int
    score: float
    citations: tuple[Citation, ...]
    evidence: tuple[Evidence, ...]
    text: str = ""

    @property
    def citation(self) -> Citation:
        """The whole definition as one citation."""
        first = self.citations[0]
        return Citation(self.path, self.start_line, self.end_line, first.commit)


@dataclass(frozen=True)
class FileLocation:
    """A file to edit or read, ranked, with its functions ranked inside it.

    Attributes:
        path: Repository-relative file.
        score: Sum of the evidence contributions.
        commit: Commit the file was indexed at.
        symbols: Its functions, methods and classes with evidence, best first.
        evidence: The contributions to its score, largest first.
    """

    path: str
    score: float
    commit: str
    symbols: tuple[SymbolLocation, ...]
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class Localization:
    """The answer of :func:`localize`.

    Attributes:
        files: The ``k`` best files, best first.
        frames: Every frame found in the text, and the indexed file it maps to (``None``
            when it is outside the repository).
        notes: Adjustments made (truncation, selected dense window, empty filters).
        rankings: Each channel's chunk ranking, for inspection.
        dense_text: The text the dense channel embedded.
    """

    files: list[FileLocation]
    frames: list[tuple[Frame, str | None]] = field(default_factory=list)
    notes: tuple[str, ...] = ()
    rankings: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    dense_text: str = ""

    def symbols(self) -> list[SymbolLocation]:
        """Functions of every returned file, ranked across files."""
        found = [s for f in self.files for s in f.symbols]
        return sorted(found, key=lambda s: (-s.score, s.path, s.start_line))

    def render(self) -> str:
        """A plain-text summary for an agent or a terminal (without the notes)."""
        out: list[str] = []
        for n, f in enumerate(self.files, 1):
            why = "; ".join(e.detail for e in f.evidence[:3])
            out.append(f"{n}. {f.path}  [{f.score:.3f}] {why}")
            for s in f.symbols:
                out.append(f"   - {s.citation}  {s.name} ({s.kind}) [{s.score:.3f}]")
        return "\n".join(out)


def localize(
    retriever: CodeRetriever,
    text: str,
    *,
    k: int = 10,
    filters: SearchFilters | Mapping[str, Any] | None = None,
    symbols_per_file: int = 5,
    weights: LocalizeWeights | None = None,
) -> Localization:
    """Rank the files (and functions within them) that a report points at.

    Args:
        retriever: An open retriever over the repository's index.
        text: A bug report, issue, stack trace, log or code fragment (of any length; beyond
            200,000 characters its beginning and end are kept, with a note).
        k: How many files.
        filters: Path globs, languages, kinds, branch, as for :meth:`CodeRetriever.search`.
        symbols_per_file: At most this many functions/classes per file.
        weights: Evidence weights (defaults tuned on the benchmark's tuning split).

    Raises:
        ValueError: On empty text, ``k < 1`` or unknown filters.
    """
    if k < 1:
        msg = f"k must be at least 1, got {k}"
        raise ValueError(msg)
    if symbols_per_file < 0:
        msg = f"symbols_per_file must be >= 0, got {symbols_per_file}"
        raise ValueError(msg)
    w = weights or LocalizeWeights()
    evidence = extract_evidence(text)
    notes = list(evidence.notes)
    retriever.follow_index()
    scope = retriever.scope(filters)
    compiled, allowed = scope.compiled, scope.compiled.predicate
    if scope.empty_note is not None:
        notes.append(scope.empty_note)
        return Localization([], notes=tuple(notes))
    symbols: SymbolTable = retriever.lexical.symbols

    encoder = retriever.encoder
    window, selected = dense_window(
        evidence, encoder.count_tokens, max(16, encoder.max_length - _PROMPT_ALLOWANCE)
    )
    if selected:
        notes.append(
            "text longer than the embedding model's window: the dense channel embedded its "
            "title, exception lines, first paragraph and lines naming code"
        )
    vector = encoder.encode_queries([window], task=retriever.single_turn_task)[0]
    mentions = [Mention(name, strong) for name, strong in evidence.identifiers]
    rankings = {
        "dense": dense_channel(retriever.store.collection, vector, k=w.depth, where=compiled.where),
        "lexical": lexical_channel(
            retriever.lexical, lexical_query(evidence), k=w.depth, allowed=allowed
        ),
        "symbol": symbol_channel(symbols, mentions, k=w.depth, allowed=allowed),
    }
    board = _Board(symbols)
    for channel, ranking in rankings.items():
        board.add_ranking(channel, ranking, getattr(w, channel), w.k)
    mapped = _add_frames(board, evidence, symbols, allowed, w, repository_names(retriever.repo))
    _add_callees(board, retriever, mapped, rankings["symbol"], allowed, w)
    board.settle()
    title = evidence.text.strip().split("\n", 1)[0]
    wanted = scope.filters
    board.step_back(
        test=1.0 if asks_for_tests(title) or wanted.paths else w.test_prior,
        prose=1.0 if _DOCS_TITLE.search(title) or wanted.paths or wanted.kinds else w.prose_prior,
    )
    files = _assemble(board, retriever, k, symbols_per_file, w)
    frames = [(f, p) for f, p, _ in mapped] + [
        (f, None) for f in evidence.frames if f not in {m[0] for m in mapped}
    ]
    return Localization(files, frames, tuple(notes), rankings, window)


class _Board:
    """Score and evidence per chunk and per file, accumulated channel by channel."""

    def __init__(self, symbols: SymbolTable) -> None:
        self.symbols = symbols
        self.chunk: dict[str, float] = defaultdict(float)
        self.file: dict[str, float] = defaultdict(float)
        self.chunk_why: dict[str, list[Evidence]] = defaultdict(list)
        self.file_why: dict[str, list[Evidence]] = defaultdict(list)
        self.repeated: dict[str, list[Evidence]] = defaultdict(list)

    def name(self, cid: str) -> str:
        info = self.symbols.get(cid)
        return info.name if info else cid

    def add_ranking(
        self, channel: str, ranking: list[tuple[str, float]], weight: float, k: float
    ) -> None:
        if weight <= 0:
            return
        file_rank: dict[str, int] = {}
        for rank, (cid, _) in enumerate(ranking, start=1):
            info = self.symbols.get(cid)
            if info is None:
                continue
            value = weight / (k + rank)
            self.chunk[cid] += value
            self.chunk_why[cid].append(Evidence(channel, f"{channel} rank {rank}", value))
            if info.path not in file_rank:
                file_rank[info.path] = len(file_rank) + 1
                frank = file_rank[info.path]
                fvalue = weight / (k + frank)
                self.file[info.path] += fvalue
                detail = f"{channel}: file rank {frank} (best chunk {info.name}, rank {rank})"
                self.file_why[info.path].append(Evidence(channel, detail, fvalue))

    def add(self, cid: str, value: float, source: str, detail: str) -> None:
        self.chunk[cid] += value
        self.chunk_why[cid].append(Evidence(source, detail, value))

    def add_file(self, path: str, value: float, source: str, detail: str) -> None:
        """Frame and callee evidence: the n-th largest piece of one kind for one file counts
        ``1/n`` (a file with ten frames of one deep recursion is not ten times as likely)."""
        self.repeated[path].append(Evidence(source, detail, value))

    def settle(self) -> None:
        """Fold the repeated evidence into the file scores."""
        for path, pieces in self.repeated.items():
            seen: dict[str, int] = defaultdict(int)
            for e in sorted(pieces, key=lambda e: (-e.score, e.source, e.detail)):
                seen[e.source] += 1
                value = e.score / seen[e.source]
                self.file[path] += value
                self.file_why[path].append(Evidence(e.source, e.detail, value))
        self.repeated.clear()

    def step_back(self, *, test: float, prose: float) -> None:
        """Scale the scores of test files and of documentation/configuration/data files."""
        for path in list(self.file):
            ids = self.symbols.in_path(path)
            info = self.symbols.get(ids[0]) if ids else None
            if info is None:
                continue
            if is_test_code(info):
                factor, what = test, "test code"
            elif _is_prose_file(info):
                factor, what = prose, "documentation or configuration"
            else:
                continue
            if factor == 1.0:
                continue
            delta = self.file[path] * (factor - 1.0)
            self.file[path] += delta
            self.file_why[path].append(Evidence("prior", f"{what} (x{factor:g})", delta))
            for cid in ids:
                if self.chunk.get(cid):
                    change = self.chunk[cid] * (factor - 1.0)
                    self.chunk[cid] += change
                    self.chunk_why[cid].append(Evidence("prior", what, change))


def _path_index(symbols: SymbolTable) -> dict[str, list[str]]:
    by_name: dict[str, list[str]] = defaultdict(list)
    for path in symbols.paths():
        by_name[path.rsplit("/", 1)[-1].lower()].append(path)
    return by_name


def map_path(
    frame_path: str, by_name: Mapping[str, list[str]], roots: Collection[str] = ()
) -> list[str]:
    """Indexed paths a frame's path refers to: those sharing the longest tail of components
    (at least two, or the whole frame path when it is relative and short).

    ``roots`` are the names the repository's own directory goes by (its checkout, its remote):
    ``…/pkg/mod/github.com/spf13/cobra@v1.6.1/command.go`` then maps onto ``command.go`` at
    the root of a repository named ``cobra``, the release suffix (``@v1.6.1``, ``-2.2.22``) of
    a module cache or an unpacked archive set aside.
    """
    parts = [p.lower() for p in re.split(r"[\\/]+", frame_path) if p and p != "."]
    if not parts:
        return []
    best, found = 0, []
    for path in by_name.get(parts[-1], ()):
        mine = path.lower().split("/")
        n = 0
        while n < min(len(mine), len(parts)) and mine[-1 - n] == parts[-1 - n]:
            n += 1
        if n == len(mine) < len(parts) and _RELEASE.sub("", parts[-1 - n]) in roots:
            n += 1  # the frame names the repository's own directory
        if n > best:
            best, found = n, [path]
        elif n == best:
            found.append(path)
    if best >= 2 or (best and best == len(parts)):
        return sorted(found)
    return []


def repository_names(repo: Any) -> frozenset[str]:
    """Lower-cased names of a repository's root: its directory and its remotes' last parts."""
    root = getattr(repo, "root", None)
    if root is None:
        return frozenset()
    names = {_RELEASE.sub("", Path(root).name.lower())}
    try:
        remotes = repo.remote_urls()
    except (AttributeError, GitError):
        remotes = []
    for url in remotes:
        tail = re.split(r"[/:]", url.rstrip("/"))[-1]
        names.add(_RELEASE.sub("", tail.lower().removesuffix(".git")))
    return frozenset(n for n in names if n)


def _chunk_for(frame: Frame, path: str, symbols: SymbolTable) -> str | None:
    """The chunk of ``path`` a frame points at: the smallest definition holding its line,
    else the definition named like its function, else the chunk holding the line."""
    ids = symbols.in_path(path)
    infos = [(cid, symbols.get(cid)) for cid in ids]
    infos = [(cid, i) for cid, i in infos if i is not None]

    def span(item: tuple[str, SymbolInfo]) -> int:
        return item[1].end_line - item[1].start_line

    if frame.line:
        holding = [x for x in infos if x[1].start_line <= frame.line <= x[1].end_line]
        defining = [x for x in holding if x[1].kind in _DEFINING]
        if defining:
            return min(defining, key=span)[0]
    if frame.function:
        named = [x for x in infos if x[1].kind in _DEFINING and x[1].short_name == frame.function]
        if named:
            return min(named, key=span)[0]
    if frame.line:
        holding = [x for x in infos if x[1].start_line <= frame.line <= x[1].end_line]
        if holding:
            return min(holding, key=span)[0]
    return None


def _add_frames(
    board: _Board,
    evidence: ReportEvidence,
    symbols: SymbolTable,
    allowed: Any,
    w: LocalizeWeights,
    roots: Collection[str] = (),
) -> list[tuple[Frame, str, float]]:
    """Score frames that map into the repository; returns (frame, path, strength)."""
    if w.frame <= 0 or not evidence.frames:
        return []
    by_name = _path_index(symbols)
    inside: list[tuple[Frame, list[str]]] = []
    for frame in evidence.frames:
        paths = map_path(frame.path, by_name, roots)
        if paths:
            inside.append((frame, paths))
    # Order by nearness to the error; the i-th in-repository frame has strength decay**i.
    inside.sort(key=lambda fp: (fp[0].style == "reference", fp[0].depth))
    mapped: list[tuple[Frame, str, float]] = []
    for i, (frame, paths) in enumerate(inside):
        strength = w.frame_decay**i / len(paths)
        if frame.style == "reference":
            strength *= 0.5
        for path in paths:
            cid = _chunk_for(frame, path, symbols)
            if cid is not None and allowed is not None and not allowed(cid):
                continue
            value = w.frame * strength
            board.add_file(path, value, "frame", f"frame {frame}")
            if cid is not None:
                board.add(cid, value, "frame", f"frame {frame}")
            mapped.append((frame, path, strength))
    return mapped


def _add_callees(
    board: _Board,
    retriever: CodeRetriever,
    mapped: list[tuple[Frame, str, float]],
    named: list[tuple[str, float]],
    allowed: Any,
    w: LocalizeWeights,
) -> None:
    """Give the definitions called by the frames nearest the error, and by the definitions
    the text names exactly, a share of their strength."""
    if w.callee <= 0:
        return
    symbols = retriever.lexical.symbols
    anchors: list[tuple[str, str, float]] = []  # chunk, why, strength
    for frame, path, strength in mapped[:_CALLEE_FRAMES]:
        cid = _chunk_for(frame, path, symbols)
        if cid is not None:
            anchors.append((cid, f"frame {frame}", w.frame * strength))
    if w.named > 0:
        exact = [(cid, s) for cid, s in named if s >= _EXACT_NAME]
        for cid, _ in exact[:_CALLEE_FRAMES]:
            info = symbols.get(cid)
            if info is not None and info.kind in _DEFINING:
                anchors.append((cid, f"named in the text: {info.name}", w.named))
    hits = retriever.fetch(list(dict.fromkeys(cid for cid, _, _ in anchors)))
    for cid, why, strength in anchors:
        hit = hits.get(cid)
        if hit is None:
            continue
        found = callees(hit.chunk, retriever.lexical, self_id=cid, limit=12)
        for order, callee in enumerate(found):
            info = symbols.get(callee)
            if info is None or (allowed is not None and not allowed(callee)):
                continue
            value = w.callee * strength / math.sqrt(1 + order)
            detail = f"called by {hit.chunk.name} ({why})"
            board.add(callee, value, "callee", detail)
            board.add_file(info.path, value, "callee", f"{info.name} {detail}")


def _assemble(
    board: _Board,
    retriever: CodeRetriever,
    k: int,
    symbols_per_file: int,
    w: LocalizeWeights,
) -> list[FileLocation]:
    files = sorted(board.file, key=lambda p: (-board.file[p], p))[:k]
    chosen: dict[str, list[tuple[str, list[str]]]] = {}
    to_fetch: list[str] = []
    for path in files:
        groups: dict[str, list[str]] = defaultdict(list)
        for cid in symbols_in(board.symbols, path):
            groups[board.symbols.get(cid).name].append(cid)  # type: ignore[union-attr]
        ranked = sorted(
            ((name, ids) for name, ids in groups.items() if any(board.chunk[c] for c in ids)),
            key=lambda item: (-max(board.chunk[c] for c in item[1]), item[0]),
        )[:symbols_per_file]
        chosen[path] = ranked
        to_fetch += [cid for _, ids in ranked for cid in ids]
        to_fetch += board.symbols.in_path(path)[:1]  # for the file's commit
    hits = retriever.fetch(list(dict.fromkeys(to_fetch)))
    out: list[FileLocation] = []
    for path in files:
        score = board.file[path]
        locations = []
        commit = next((hits[c].commit for c in board.symbols.in_path(path)[:1] if c in hits), "")
        for name, ids in chosen[path]:
            parts = sorted((hits[c] for c in ids if c in hits), key=lambda h: h.chunk.start_line)
            if not parts:
                continue
            commit = commit or parts[0].commit
            why = sorted(
                (e for c in ids for e in board.chunk_why[c]), key=lambda e: (-e.score, e.detail)
            )
            own = max(board.chunk[c] for c in ids)
            locations.append(
                SymbolLocation(
                    name=name,
                    kind=parts[0].chunk.kind,
                    path=path,
                    start_line=parts[0].chunk.start_line,
                    end_line=max(h.chunk.end_line for h in parts),
                    score=own + w.file_share * score,
                    citations=tuple(h.citation for h in parts),
                    evidence=tuple(why),
                    text="\n".join(h.chunk.text for h in parts),
                )
            )
        why = sorted(board.file_why[path], key=lambda e: (-e.score, e.detail))
        out.append(FileLocation(path, score, commit, tuple(locations), tuple(why)))
    return out


def _is_prose_file(info: SymbolInfo) -> bool:
    """Documentation or a configuration/build/data file (not a module chunk of code)."""
    return info.kind == "window" and is_prose_or_data(info)


def symbols_in(symbols: SymbolTable, path: str) -> list[str]:
    """Ids of the functions, methods and classes of one file, in line order."""
    return [
        cid
        for cid in symbols.in_path(path)
        if (info := symbols.get(cid)) is not None and info.kind in _DEFINING
    ]
