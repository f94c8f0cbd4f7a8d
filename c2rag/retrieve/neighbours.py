"""Neighbour expansion: the definitions a chunk calls, and the chunks that call it.

Both come from the lexical index without parsing again: a callee is a name followed by ``(``
in the chunk's text that some function, method or class in the index defines; a caller is a
chunk whose tokens contain the chunk's own name as a whole identifier.
"""

from __future__ import annotations

import re

from c2rag.retrieve.arrange import is_doc_or_data_file, is_test_code, symbol_key
from c2rag.store.lexical import LexicalIndex
from c2rag.store.symbols import SymbolInfo, short_name
from c2rag.store.tokens import code_tokens
from c2rag.types import Chunk

__all__ = ["callees", "callers", "definitions", "names_in_text"]

_CALL = re.compile(r"(?<![\w.])(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*)\s*\(")
_KEYWORDS_AND_BUILTINS = (
    "if for while return print len str int float list dict set tuple super isinstance range "
    "function def class elif switch catch sizeof"
)
_NOT_CALLS = frozenset(_KEYWORDS_AND_BUILTINS.split())


def callees(chunk: Chunk, lexical: LexicalIndex, *, self_id: str, limit: int = 5) -> list[str]:
    """Ids of definitions of the names ``chunk`` calls, in order of first call.

    A name defined in several places lists the definition in ``chunk``'s own file first, then
    those in its directory, then the rest; a definition split into parts is listed by its first
    part (its signature and docstring), not by a tail part whose lines say nothing of it.
    """
    out: list[str] = []
    own = short_name(chunk.name)  # Cls::find, Cls#find, pkg.find
    for match in _CALL.finditer(chunk.text):
        name = match.group(1)
        if name in _NOT_CALLS or name == own:
            continue
        for cid in definitions(name, lexical, near=chunk.path):
            if cid != self_id and cid not in out:
                out.append(cid)
        if len(out) >= limit:
            break
    return out[:limit]


def names_in_text(name: str, text: str) -> bool:
    """Whether ``text`` spells ``name`` as a whole identifier (``c.Flags()``, ``->find(``,
    ``request.params``), not as part of another (``LocalFlags``, ``flags``)."""
    return re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", text) is not None


def definitions(name: str, lexical: LexicalIndex, *, near: str = "") -> list[str]:
    """The first part of each definition of ``name``, nearest to the file ``near`` first
    (same file, same directory, others), then by path and line."""
    symbols = lexical.symbols
    heads: dict[tuple[str, ...], tuple[SymbolInfo, str]] = {}  # by symbol: its first part
    for cid in symbols.defining(name):
        info = symbols.get(cid)
        if info is None:
            continue
        key = symbol_key(cid, info)
        if key not in heads or info.start_line < heads[key][0].start_line:
            heads[key] = (info, cid)
    folder = near.rpartition("/")[0]

    def distance(head: tuple[SymbolInfo, str]) -> tuple[int, str, int]:
        info = head[0]
        here = 0 if info.path == near else 1 if info.path.rpartition("/")[0] == folder else 2
        return (here, info.path, info.start_line)

    return [cid for _, cid in sorted(heads.values(), key=distance)]


def callers(chunk: Chunk, lexical: LexicalIndex, *, self_id: str, limit: int = 5) -> list[str]:
    """Ids of chunks that use ``chunk``'s name (by its identifier token: the caller's text
    is not read here, see :func:`names_in_text`): those in its file first, then those that also
    name its class, code before tests, then by specificity (functions and methods before
    classes and modules)."""
    info = lexical.symbols.get(self_id)
    if info is None or not info.defines:
        return []
    tokens = code_tokens(info.short_name)
    if not tokens:
        return []
    order = {"function": 0, "method": 0, "class": 1, "module": 2, "window": 2}
    found = [cid for cid in lexical.containing(tokens[0]) if cid != self_id]
    # Neither another definition of the same name, nor the enclosing class outline (which
    # lists the method's signature), nor a changelog or docs page that names it is a caller.
    found = [
        cid
        for cid in found
        if (i := lexical.symbols.get(cid)) is not None
        and i.short_name != info.short_name
        and not info.name.startswith(i.name + ".")
        and not is_doc_or_data_file(i)
    ]
    # A method named like a builtin or a common word ("range", "get") is spelled the same in
    # unrelated code; chunks that also name its class, or sit in its file, come first.
    owner = set()
    if info.parent:
        parent_tokens = code_tokens(info.parent.rsplit(".", 1)[-1])
        if parent_tokens:
            owner = set(lexical.containing(parent_tokens[0]))
    own_file = set(lexical.symbols.in_path(info.path))

    # Tests call everything: the code that uses it comes first, unless it is test code itself.
    in_tests = is_test_code(info)

    def rank(cid: str) -> tuple[int, int, int]:
        other = lexical.symbols.get(cid)
        assert other is not None  # filtered above
        test = 0 if in_tests else int(is_test_code(other))
        near = 0 if cid in own_file else 1 if cid in owner else 2
        return (near, test, order.get(other.kind, 3))

    found.sort(key=rank)
    return found[:limit]
