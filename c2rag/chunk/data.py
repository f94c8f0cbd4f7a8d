"""Tell a data statement (a lookup table, a long list of constants) from code, in any grammar.

A module-level statement is *data* when it spans several lines, is longer than a token cap,
and most of its leaves are literals (strings, numbers, booleans, null). Such a statement says
little that an embedding can use, yet a large one fills many chunks; the assembler shows it as
its first line. Object keys (``property_identifier`` and the like) count for neither side, so a
JavaScript object of settings is judged by its values.
"""

from __future__ import annotations

from collections.abc import Callable

from tree_sitter import Node, TreeCursor

from c2rag.chunk.source import Source

__all__ = ["is_data"]

_LITERAL_PARTS = ("string", "integer", "float", "number", "true", "false", "none", "null", "nil",
                  "char", "escape", "literal", "boolean")  # fmt: skip
_KEY_PARTS = ("property_identifier", "field_identifier", "shorthand", "key")
_MIN_LINES = 3
_LITERAL_SHARE = 0.6
_MAX_VISITED = 4000  # a table is uniform: its first few thousand nodes decide


def is_data(node: Node, source: Source, count: Callable[[str], int], max_tokens: int) -> bool:
    """Whether ``node`` is a data statement longer than ``max_tokens`` (see the module doc)."""
    first, last = source.lines_of(node.start_byte, node.end_byte)
    if last - first + 1 < _MIN_LINES or node.end_byte - node.start_byte < 2 * max_tokens:
        return False  # cheap exits: a token is at least ~2 bytes of code
    literals = others = visited = 0
    cursor = node.walk()
    while visited < _MAX_VISITED:
        current = cursor.node
        visited += 1
        if current is not None and current.is_named and current.child_count == 0:
            kind = current.type
            if any(part in kind for part in _LITERAL_PARTS):
                literals += 1
            elif not any(part in kind for part in _KEY_PARTS):
                others += 1
        elif current is not None and current.is_named and "string" in current.type:
            literals += 1  # a string node: its content children are not code
            if not _next(cursor):
                break
            continue
        if cursor.goto_first_child():
            continue
        if not _next(cursor):
            break
    if literals < _LITERAL_SHARE * (literals + others):
        return False
    # counting a prefix is enough to know the cap is passed, and cheap on a huge table
    end = min(node.end_byte, node.start_byte + 16 * max_tokens)
    return count(source.text(node.start_byte, end)) > max_tokens


def _next(cursor: TreeCursor) -> bool:
    """Move to the next node in pre-order that is not below the current one."""
    while True:
        if cursor.goto_next_sibling():
            return True
        if not cursor.goto_parent():
            return False
