"""Names, signatures and docstrings of definitions, language by language.

Each helper reads one tree-sitter node (plus the file bytes) and returns plain text; the walk
in :mod:`c2rag.chunk.symbols` decides what the node is and how names nest.
"""

from __future__ import annotations

import inspect
import re
from pathlib import PurePosixPath

from tree_sitter import Node

from c2rag.chunk.languages import LanguageSpec

__all__ = [
    "body_of",
    "clean_comment",
    "definition_name",
    "header_end",
    "package_name",
    "python_docstring",
    "python_module",
    "receiver_type",
    "signature_of",
]

_WS = re.compile(r"\s+")
_COMMENT_MARK = re.compile(r"^\s*(?:///?!?|/\*\*?|\*/|\*(?!/)|#!?|--|;+|<!--|-->)\s?")
_DECLARATOR_LEAVES = frozenset(
    {
        "identifier",
        "field_identifier",
        "qualified_identifier",
        "destructor_name",
        "operator_name",
        "type_identifier",
    }
)
# C# / Java doc-comment markup that carries no meaning of its own
_DOC_TAGS = re.compile(r"</?(?:summary|remarks|returns|para|p|br|code|c)\s*/?>", re.IGNORECASE)
_SIGNATURE_CAP = 400
_DOCSTRING_CAP = 2000


def _text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def python_module(path: str) -> str:
    """Dotted module name of a Python file path (``src/pkg/mod.py`` → ``pkg.mod``)."""
    parts = list(PurePosixPath(path.replace("\\", "/")).with_suffix("").parts)
    if "site-packages" in parts:
        parts = parts[parts.index("site-packages") + 1 :]
    elif parts and parts[0] in {"src", "lib"} and len(parts) > 1:
        parts = parts[1:]
    if parts and parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(p for p in parts if p not in {"", ".", ".."})


def body_of(spec: LanguageSpec, node: Node) -> Node | None:
    """The node holding a definition's members or statements, if it has one."""
    body = node.child_by_field_name("body")
    if body is not None:
        return body
    for child in node.named_children:
        if child.type in spec.bodies:
            return child
    return None


def _declarator_name(node: Node) -> str:
    """Name inside a C/C++ declarator chain (``*name_of(int)`` → ``name_of``)."""
    current: Node | None = node.child_by_field_name("declarator")
    for _ in range(16):  # declarators nest a handful deep; bound it against odd trees
        if current is None:
            return ""
        if current.type in _DECLARATOR_LEAVES:
            return _text(current)
        nxt = current.child_by_field_name("declarator")
        if nxt is None and current.named_children:
            nxt = current.named_children[0]
        current = nxt
    return ""


def _type_name(node: Node | None) -> str:
    """Bare type name of a type node (``&mut Point<T>`` → ``Point``, ``*Store[K]`` → ``Store``)."""
    for _ in range(16):
        if node is None:
            return ""
        if node.type in {"type_identifier", "identifier", "constant"}:
            return _text(node)
        if node.type == "scoped_type_identifier":
            return _text(node.child_by_field_name("name"))
        nxt = node.child_by_field_name("type")
        if nxt is None and node.named_children:
            nxt = node.named_children[0]
        node = nxt
    return ""


def receiver_type(node: Node) -> str:
    """Type a Go method is declared on (``func (s *Store[K]) Get`` → ``Store``)."""
    receiver = node.child_by_field_name("receiver")
    if receiver is None:
        return ""
    for param in receiver.named_children:
        if param.type == "parameter_declaration":
            return _type_name(param.child_by_field_name("type"))
    return ""


def definition_name(spec: LanguageSpec, node: Node) -> str:
    """The declared name of a function, class or namespace node, or ``""`` when it has none."""
    kind = node.type
    if spec.name in {"c", "cpp"}:
        if kind == "function_definition":
            return _declarator_name(node)
        if kind == "type_definition":
            return _text(node.child_by_field_name("declarator"))
    if spec.name == "objc":
        return _objc_name(node)
    if kind == "deinit_declaration":  # Swift's deinitializer has no name of its own
        return "deinit"
    if spec.name == "lua" and kind == "function_declaration":
        return _WS.sub("", _text(node.child_by_field_name("name"))).replace(":", ".")  # M:m
    if spec.name == "rust" and kind == "impl_item":
        return _type_name(node.child_by_field_name("type"))
    if spec.name == "go" and kind == "type_declaration":
        specs = [c for c in node.named_children if c.type == "type_spec"]
        return _text(specs[0].child_by_field_name("name")) if len(specs) == 1 else ""
    if kind == "companion_object":
        name = next((c for c in node.named_children if c.type == "identifier"), None)
        return _text(name) or "Companion"
    name_node = node.child_by_field_name("name")
    if name_node is None and kind in {"lexical_declaration", "variable_declaration"}:
        declarator = next((c for c in node.named_children if c.type == "variable_declarator"), None)
        name_node = declarator.child_by_field_name("name") if declarator else None
    if name_node is None:
        name_node = node.child_by_field_name("property")  # JS class fields holding a function
    return _WS.sub("", _text(name_node))


def _objc_name(node: Node) -> str:
    """An Objective-C class's name (``RNSRouter``, for its categories too), a method's
    selector (``addPath:handler:``, ``shared``) or a C function's name."""
    if node.type == "function_definition":
        return _declarator_name(node)
    if node.type == "method_definition":
        words: list[str] = []
        for child in node.named_children:
            if child.type == "identifier":
                words.append(_text(child))
            elif child.type == "method_parameter" and words:
                words[-1] += ":"  # each keyword of the selector takes one argument
        return "".join(words)
    # a category (@interface RNSRouter (Private)) is named by its class, like a Swift
    # extension: its members are the class's methods
    name = next((c for c in node.named_children if c.type == "identifier"), None)
    return _text(name)


def package_name(node: Node) -> str:
    """Package / namespace declared by a file-level node (``package com.example;``)."""
    name = node.child_by_field_name("name")
    if name is None:
        name = next(
            (
                c
                for c in node.named_children
                if c.type
                in {
                    "package_identifier",
                    "scoped_identifier",
                    "qualified_identifier",
                    "identifier",
                    "qualified_name",
                    "namespace_name",
                }
            ),
            None,
        )
    return _WS.sub("", _text(name))


def header_end(node: Node, body: Node | None) -> int:
    """Where a definition's declaration ends: before its body, and before comments that
    precede the body (Python puts ``# ...`` lines between ``def f():`` and the block)."""
    if body is None:
        return node.end_byte
    before = [c for c in node.children if c.end_byte <= body.start_byte]
    kept = list(before)
    while kept and "comment" in kept[-1].type:
        kept.pop()
    if len(kept) < len(before) and kept:
        return kept[-1].end_byte
    return body.start_byte


def signature_of(data: bytes, node: Node, body: Node | None) -> str:
    """Declaration text before the body, whitespace collapsed (``def f(x) -> int``)."""
    end = header_end(node, body)
    raw = data[node.start_byte : end].decode("utf-8", "replace")
    if body is None and "{" in raw:
        raw = raw.split("{", 1)[0]
    text = _WS.sub(" ", raw).strip().rstrip(":{;=").rstrip()
    return text[:_SIGNATURE_CAP]


def python_docstring(body: Node | None) -> str:
    """Docstring of a Python function or class body, cleaned like :func:`inspect.cleandoc`."""
    if body is None or not body.named_children:
        return ""
    first = body.named_children[0]
    if first.type != "expression_statement" or not first.named_children:
        return ""
    string = first.named_children[0]
    if string.type != "string":
        return ""
    content = "".join(_text(c) for c in string.named_children if c.type == "string_content")
    return inspect.cleandoc(content)[:_DOCSTRING_CAP]


def clean_comment(texts: list[str]) -> str:
    """Comment text without its markers (``//``, ``/**``, ``*``, ``#``, ``///``)."""
    lines: list[str] = []
    for text in texts:
        for line in text.splitlines():
            line = _COMMENT_MARK.sub("", line, count=1).rstrip()
            line = line.removesuffix("*/").rstrip()
            lines.append(_DOC_TAGS.sub("", line))
    return inspect.cleandoc("\n".join(lines)).strip()[:_DOCSTRING_CAP]
