"""After fusion: one slot per symbol, and code before prose and data.

An oversized function is indexed as several parts and a large class as several skeleton
parts; each part can rank, so without this step one symbol takes several of the top k slots.
Parts of one symbol (same file, kind, qualified name and parent) collapse into the best
ranked one, which lists the others as its members. Module remainders (imports, constants,
tables), documentation and configuration/build/data files rarely answer a question about
behaviour or location, so they are scored down unless the question is about them (docs,
constants, configuration, the Makefile) or the filters ask for them. Test code is scored
down the same way unless the question is about tests: a question about behaviour is
answered by the code that behaves, not by the tests that exercise it (which repeat its
names and vocabulary, so both channels find them).

The same code at two paths (a module copied into another package, a source tree duplicated
for a second binding) takes one slot too: a chunk whose text is identical to a better ranked
one's in another file joins it as a member.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

from c2rag.retrieve.fusion import Fused
from c2rag.store.symbols import SymbolInfo, SymbolTable, short_name
from c2rag.types import Hit

__all__ = [
    "Arranged",
    "arrange",
    "asks_for_prose",
    "asks_for_tests",
    "explains_module",
    "is_doc_or_data_file",
    "is_prose_or_data",
    "is_test_code",
    "named_first",
    "symbol_key",
    "symbol_parts",
    "whole_definition",
]

# A question names a symbol exactly when the symbol channel matched its whole qualified name
# or a qualified suffix, and names of code make up at least this share of the question.
_NAMED_SCORE = 0.9
_NAMED_SHARE = 0.5
# A module docstring at least this long explains the file (more than a one-line title).
_EXPLAINING_DOCSTRING = 200
# Identical chunks of at least this many lines in two files are one piece of code copied; a
# single line (``pass``, an alias) is the same idiom written twice.
_COPY_MIN_LINES = 2

_DOC_LANGUAGES = frozenset({"markdown", "rst", "text", "restructuredtext", "asciidoc"})
_DOC_SUFFIXES = (".md", ".markdown", ".rst", ".txt", ".adoc")
# Configuration, build and data files: they set the code up or feed it, and they repeat its
# names and phrases (a Makefile quoting a CLI call, a fixture holding expected output), but
# they do not say where or how it behaves.
_DATA_LANGUAGES = frozenset(
    {"json", "yaml", "toml", "ini", "xml", "html", "make", "dockerfile", "cmake", "starlark"}
)
_ABOUT_PROSE = re.compile(
    r"\b(docs?|documentation|documented|readme|guide|tutorial|changelog|markdown|manual"
    r"|constants?|config(uration)?|settings?|defaults?|tables?|imports?|version"
    r"|makefile|dockerfile|docker|dependenc(y|ies)|workflows?|yaml|json|toml|html)\b",
    re.IGNORECASE,
)
# Test code by path: test directories, test_*.py / *_test.go / conftest.py, *.test.ts / *.spec.js,
# FooTest.java / FooTests.cs.
_TEST_PATH = re.compile(
    r"(^|/)(tests?|testing|__tests__)/"
    r"|(^|/)(test_[^/]*|[^/]*_tests?\.\w+|conftest\.py|[^/]*\.(test|spec)\.\w+"
    r"|[A-Z]\w*Tests?\.(java|kt|scala|cs|swift))$"
)
_ABOUT_TESTS = re.compile(
    r"\b(tests?|testing|tested|pytest|unittest|fixtures?|mocks?|mocked|specs?)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class Arranged:
    """A fused result after collapsing.

    Attributes:
        fused: The best-ranked member of its symbol.
        members: Ids of the symbol's other chunks that ranked (e.g. the other parts of a
            split function, the same code in a copied file), best first.
        factor: Multiplier applied to the fused score (1.0, or the prose/data penalty).
        copies: The members that are the same code in another file.
    """

    fused: Fused
    members: tuple[str, ...] = ()
    factor: float = 1.0
    contributions: dict[str, float] = field(default_factory=dict)
    whole: bool = False
    copies: tuple[str, ...] = ()

    @property
    def score(self) -> float:
        return self.fused.score * self.factor


def is_prose_or_data(info: SymbolInfo) -> bool:
    """Documentation, a configuration/build/data file, or a module chunk (imports,
    constants, data tables)."""
    return info.kind == "module" or is_doc_or_data_file(info)


def is_doc_or_data_file(info: SymbolInfo) -> bool:
    """A chunk of documentation (Markdown, reST, a changelog) or of a configuration, build or
    data file: text that mentions code but never runs it."""
    return _is_doc(info) or _is_data(info)


def is_test_code(info: SymbolInfo) -> bool:
    """A chunk of a test file (by its path: ``tests/``, ``test_*.py``, ``*_test.go``, ...)."""
    return _TEST_PATH.search(info.path) is not None


def _is_doc(info: SymbolInfo) -> bool:
    return info.language in _DOC_LANGUAGES or info.path.lower().endswith(_DOC_SUFFIXES)


def _is_data(info: SymbolInfo) -> bool:
    return info.language in _DATA_LANGUAGES


def explains_module(hit: Hit) -> bool:
    """Whether a module chunk carries a docstring long enough to say what its file does."""
    return hit.chunk.kind == "module" and len(hit.chunk.docstring) >= _EXPLAINING_DOCSTRING


def asks_for_prose(question: str) -> bool:
    """Whether a question is about documentation, constants or configuration."""
    return _ABOUT_PROSE.search(question) is not None


def asks_for_tests(question: str) -> bool:
    """Whether a question is about tests ("which test covers ...", "the fixture for ...")."""
    return _ABOUT_TESTS.search(question) is not None


def _copyable(info: SymbolInfo) -> bool:
    """Whether a chunk is long enough that an identical one elsewhere is a copy of it."""
    return bool(info.text_id) and info.end_line - info.start_line + 1 >= _COPY_MIN_LINES


def _copy_key(info: SymbolInfo) -> tuple[str, str]:
    """Identical text in a class of the same name: the same method in a copied file, not
    one idiom (``return self._name``) written in two classes."""
    return info.text_id, short_name(info.parent) if info.parent else ""


def _other_files(
    members: Sequence[Fused], info: SymbolInfo, symbols: SymbolTable
) -> tuple[str, ...]:
    """The members (after the first) that are in another file than ``info``'s."""
    return tuple(
        m.id for m in members[1:] if (other := symbols.get(m.id)) and other.path != info.path
    )


def _merge_copies(
    groups: Mapping[tuple[str, ...], list[Fused]],
    symbols: SymbolTable,
    shared: Collection[str],
    fused: Sequence[Fused],
) -> list[list[Fused]]:
    """The groups (best first), a group whose code is a copy of a better ranked group's in
    another file merged into that one, members in fusion order. ``shared``: the text ids
    seen in two files. Any part matches, so a split function whose best ranked parts differ
    between its two files is still one result."""
    position = {item.id: n for n, item in enumerate(fused)}
    merged: dict[tuple[str, ...], list[Fused]] = {}
    owner: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {}  # copy key → (group, path)
    for key, members in groups.items():
        # ``shared`` holds only copyable texts, and identical texts span as many lines
        copyable = [
            i for m in members if (i := symbols.get(m.id)) is not None and i.text_id in shared
        ]
        into = key
        for info in copyable:
            held = owner.get(_copy_key(info))
            if held is not None and held[1] != info.path:
                into = held[0]
                break
        for info in copyable:
            owner.setdefault(_copy_key(info), (into, info.path))
        merged.setdefault(into, []).extend(members)
    return [sorted(members, key=lambda m: position[m.id]) for members in merged.values()]


def symbol_key(cid: str, info: SymbolInfo | None) -> tuple[str, ...]:
    """What one result stands for: parts of one symbol share a key (so do the windows of one
    docs or data file)."""
    if info is None:
        return (cid,)
    if info.kind == "window":
        # A page of documentation or a configuration file answers once (its best window,
        # the others as members); windows of an unparsed code file are separate places.
        return (info.path, "doc") if _is_doc(info) or _is_data(info) else (cid,)
    if info.kind == "module":  # the head (docstring) apart from the remainders
        return (info.path, info.kind, info.name, str(info.start_line == 1))
    return (info.path, info.kind, info.name, info.parent)


def arrange(
    fused: Sequence[Fused],
    symbols: SymbolTable,
    *,
    k: int,
    prose_penalty: float = 1.0,
    explained: Collection[str] = (),
    test_penalty: float = 1.0,
) -> list[Arranged]:
    """Collapse parts of one symbol and copies of one piece of code, apply the prose/data and
    test penalties; best ``k``.

    Args:
        fused: Fusion output, best first.
        symbols: The index's symbol table (path, kind, name, parent of every chunk).
        k: How many results.
        prose_penalty: Score multiplier for documentation and module chunks (1.0 = none).
        explained: Ids of module chunks exempt from it: those that carry a module docstring
            long enough to say what the file does (they answer "where" questions).
        test_penalty: Score multiplier for test code (1.0 = none).
    """
    groups: dict[tuple[str, ...], list[Fused]] = {}
    copied = symbols.copied  # known when indexing: most repositories have none
    shared: set[str] = set()  # candidates' text ids that are in two files
    for item in fused:
        info = symbols.get(item.id)
        groups.setdefault(symbol_key(item.id, info), []).append(item)
        if copied and info is not None and info.text_id in copied and _copyable(info):
            shared.add(info.text_id)
    out: list[Arranged] = []
    merged = _merge_copies(groups, symbols, shared, fused) if shared else groups.values()
    for members in merged:
        best = members[0]
        info = symbols.get(best.id)
        prose = info is not None and is_prose_or_data(info) and best.id not in explained
        factor = prose_penalty if prose else 1.0
        parts = dict(best.contributions)
        if factor != 1.0:
            parts["prose_or_data_penalty"] = best.score * (factor - 1.0)
        if test_penalty != 1.0 and info is not None and is_test_code(info):
            parts["test_code_penalty"] = best.score * factor * (test_penalty - 1.0)
            factor *= test_penalty
        copies = _other_files(members, info, symbols) if shared and info is not None else ()
        out.append(Arranged(best, tuple(m.id for m in members[1:]), factor, parts, copies=copies))
    out.sort(key=lambda a: -a.score)  # stable: equal scores keep the fusion order
    return out[:k]


def named_first(
    arranged: Sequence[Arranged],
    symbol_ranking: Sequence[tuple[str, float]],
    identifier_share: float,
) -> list[Arranged]:
    """Put the symbols a question names exactly first, marked to be returned whole.

    Applies when code names make up much of the question ("where is ``Session.send``?") and
    the symbol channel matched a qualified name or suffix; the order among them is the
    fusion's.
    """
    if identifier_share < _NAMED_SHARE:
        return list(arranged)
    exact = {cid for cid, score in symbol_ranking if score >= _NAMED_SCORE}
    named = [
        replace(a, whole=True)
        for a in arranged
        if a.fused.id in exact or exact.intersection(a.members)
    ]
    chosen = {a.fused.id for a in named}
    return [*named, *(a for a in arranged if a.fused.id not in chosen)]


def symbol_parts(chunk_id: str, symbols: SymbolTable) -> list[str]:
    """Ids of every indexed chunk of the symbol ``chunk_id`` belongs to, in line order."""
    info = symbols.get(chunk_id)
    if info is None:
        return [chunk_id]
    key = symbol_key(chunk_id, info)
    return [cid for cid in symbols.in_path(info.path) if symbol_key(cid, symbols.get(cid)) == key]


def whole_definition(parts: Sequence[Hit]) -> Hit:
    """One hit spanning every part of a split symbol, in line order (the first part's id)."""
    ordered = sorted(parts, key=lambda h: h.chunk.start_line)
    first, last = ordered[0].chunk, ordered[-1].chunk
    text = "\n".join(h.chunk.text for h in ordered)
    chunk = replace(
        first,
        start_line=first.start_line,
        end_line=max(h.chunk.end_line for h in ordered),
        end_byte=last.end_byte,
        text=text,
        part=1,
        parts=1,
        content_hash="",
    )
    head = parts[0]
    return Hit(head.id, chunk, head.score, head.commit, head.blob_sha, dict(head.channels))
