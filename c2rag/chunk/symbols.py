"""Walk a tree-sitter tree into symbols: functions, methods and classes with qualified names.

The walk returns, for one scope (the file, a class body, a function body), the ordered list of
its *items*: :class:`Symbol` for each definition and the plain tree-sitter node for everything
else (imports, statements, fields, comments not attached to a definition). Namespaces and
preprocessor conditionals are walked through, so their members appear at the enclosing level
with the namespace in their qualified name. Comments (and Rust attributes) directly above a
definition, with no blank line between, are attached to it; TypeScript overload signatures and
Python ``@overload`` stubs are attached to the implementation that follows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from c2rag.chunk.languages import LanguageSpec
from c2rag.chunk.names import (
    body_of,
    clean_comment,
    definition_name,
    package_name,
    python_docstring,
    python_module,
    receiver_type,
    signature_of,
)
from c2rag.chunk.source import Source

__all__ = ["Item", "Symbol", "SymbolWalker", "statements_of"]

# File-level declarations that name the package every later definition lives in.
_PACKAGE_NODES = frozenset(
    {"package_declaration", "package_header", "package_clause", "file_scoped_namespace_declaration"}
)
# JS/TS declarations whose value may be a function (``const f = () => {}``).
_JS_VALUE_HOLDERS = frozenset(
    {"lexical_declaration", "variable_declaration", "field_definition", "public_field_definition"}
)
_JS_FUNCTION_VALUES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function"}
)
_JS_FAMILY = frozenset({"javascript", "typescript", "tsx"})
_MAX_DEPTH = 64  # scopes nested deeper than this are left as plain text


@dataclass(eq=False)
class Symbol:
    """A definition found in the tree.

    ``start`` includes decorators, attached comments and overload signatures; ``end`` is the
    end of the definition. ``members`` holds a class's items, in order.
    """

    kind: str
    name: str
    parent: str
    node: Node
    outer: Node
    start: int
    end: int
    body: Node | None
    signature: str
    docstring: str
    declaration_only: bool = False
    overload: bool = False
    members: list[Item] = field(default_factory=list)


Item = Symbol | Node


@dataclass(frozen=True)
class _Scope:
    prefix: str = ""
    """Qualified name that names in this scope are appended to."""
    parent: str = ""
    """Qualified name of the enclosing class or function ("" in a file or namespace)."""
    in_class: bool = False
    depth: int = 0
    singleton: bool = False
    """Inside Ruby's ``class << self``: methods are class methods (``Class.method``)."""


def _macro_class_name(node: Node) -> str:
    """The class name of a C++ class declared with an export macro (``class API Name {``),
    which parses as a function definition; ``""`` for anything else."""
    if node.type != "function_definition":
        return ""
    kind = node.child_by_field_name("type")
    declarator = node.child_by_field_name("declarator")
    if (
        kind is None
        or kind.type not in {"class_specifier", "struct_specifier", "union_specifier"}
        or kind.child_by_field_name("body") is not None
        or declarator is None
        or declarator.type != "identifier"
    ):
        return ""
    return (declarator.text or b"").decode("utf-8", "replace")


def statements_of(spec: LanguageSpec, body: Node) -> list[Node]:
    """Statements of a body, looking through single wrappers (Go ``block → statement_list``)."""
    for _ in range(4):
        children = body.named_children
        if len(children) != 1 or children[0].named_child_count == 0:
            return children
        only = children[0]
        if only.type in spec.functions or only.type in spec.classes:
            return children
        body = only
    return body.named_children


class SymbolWalker:
    """Finds the symbols of one parsed file.

    Args:
        spec: Node tables of the file's language.
        source: The file's bytes and line index.
        path: Repository-relative path (Python names are qualified with its module path).
    """

    def __init__(self, spec: LanguageSpec, source: Source, path: str) -> None:
        self.spec = spec
        self.source = source
        self.module = python_module(path) if spec.name == "python" else ""

    def walk(self, root: Node) -> list[Item]:
        """Items of the whole file."""
        return self._walk(root.named_children, _Scope(prefix=self.module))

    def nested(self, symbol: Symbol) -> list[Item]:
        """Items of a function's body: statements, and definitions nested in it."""
        if symbol.body is None:
            return []
        scope = _Scope(prefix=symbol.name, parent=symbol.name, in_class=False)
        return self._walk(statements_of(self.spec, symbol.body), scope)

    # -- walking ------------------------------------------------------------------------

    def _walk(self, nodes: list[Node], scope: _Scope) -> list[Item]:
        spec = self.spec
        items: list[Item] = []
        pending: list[Node] = []  # comments that may belong to the next definition
        for node in nodes:
            if node.type in spec.comments or node.type in spec.attached:
                pending.append(node)
                continue
            if node.type in _PACKAGE_NODES or (
                node.type == "namespace_definition" and body_of(spec, node) is None
            ):
                package = package_name(node)
                if package and scope.depth == 0:
                    scope = _Scope(prefix=self._join(scope.prefix, package), depth=scope.depth)
                if node.type == "file_scoped_namespace_declaration" and node.named_child_count:
                    items += pending
                    pending = []
                    items.append(node)
                    items += self._walk(node.named_children[1:], scope)
                    continue
            found = self._symbol(node, scope) if scope.depth < _MAX_DEPTH else None
            if isinstance(found, Symbol):
                _take_semicolon(found, self.source)
                pending = self._attach(found, pending)
                items += pending
                items.append(found)
            elif isinstance(found, list):
                items += pending
                items += found
            else:
                items += pending
                items.append(node)
            pending = []
        items += pending
        return self._merge_overloads(items)

    def _symbol(self, node: Node, scope: _Scope) -> Symbol | list[Item] | None:
        spec = self.spec
        if node.type in spec.transparent or node.type == "ERROR":
            inner = _Scope(scope.prefix, scope.parent, scope.in_class, scope.depth + 1)
            return self._walk(node.named_children, inner)
        if node.type == "singleton_class" and scope.in_class:
            body = body_of(spec, node)
            inner = _Scope(
                scope.prefix, scope.parent, in_class=True, depth=scope.depth + 1, singleton=True
            )
            return self._walk(body.named_children, inner) if body is not None else None
        outer, node = node, self._unwrap(node)
        if node.type in spec.namespaces:
            body = body_of(spec, node)
            if body is None:
                return None
            name = definition_name(spec, node)
            prefix = self._join(scope.prefix, name) if name else scope.prefix
            return self._walk(body.named_children, _Scope(prefix, depth=scope.depth + 1))
        if node.type in spec.classes:
            return self._class(outer, node, scope)
        if spec.name == "cpp" and (name := _macro_class_name(node)):
            return self._macro_class(outer, node, name, scope)
        if node.type in spec.functions:
            return self._function(outer, node, node, scope)
        if spec.name in _JS_FAMILY and node.type in _JS_VALUE_HOLDERS:
            return self._js_value_function(outer, node, scope)
        if spec.name in _JS_FAMILY and node.type == "expression_statement" and scope.depth == 0:
            return self._js_assigned_function(outer, node, scope)
        return None

    def _unwrap(self, node: Node) -> Node:
        spec = self.spec
        wanted = spec.functions | spec.classes | spec.namespaces | spec.wrappers
        if spec.name in _JS_FAMILY:
            wanted = wanted | _JS_VALUE_HOLDERS
        for _ in range(4):
            if node.type not in spec.wrappers:
                break
            inner = node.child_by_field_name("definition") or node.child_by_field_name(
                "declaration"
            )
            if inner is None:
                inner = next((c for c in reversed(node.named_children) if c.type in wanted), None)
            if inner is None:
                break
            node = inner
        return node

    # -- definitions --------------------------------------------------------------------

    def _class(self, outer: Node, node: Node, scope: _Scope) -> Symbol | None:
        spec = self.spec
        body = body_of(spec, node)
        if spec.name in {"c", "cpp"}:
            specifier = node.child_by_field_name("type") if node.type == "type_definition" else node
            body = specifier.child_by_field_name("body") if specifier is not None else None
            if body is None:
                return None  # a forward declaration or a plain typedef
        elif spec.name == "objc":
            body = node  # @interface/@implementation: members sit in the node itself
        elif spec.name == "go":
            spec_nodes = [c for c in node.named_children if c.type == "type_spec"]
            kind = spec_nodes[0].child_by_field_name("type") if len(spec_nodes) == 1 else None
            if kind is None or kind.type not in {"struct_type", "interface_type"}:
                return None
            body = None  # Go methods live outside the type: the struct is one chunk
        name = definition_name(spec, node)
        if not name:
            return None
        qualified = self._join(scope.prefix, name)
        symbol = self._spanning("class", qualified, scope.parent, node, outer, body)
        if node.type == "type_definition":  # `typedef struct { ... } point;` names it last
            symbol.signature = f"{symbol.signature} {name}"
        if spec.name == "objc":  # no body node: the declaration is the first line
            first = self.source.text(node.start_byte, node.end_byte).split("\n", 1)[0]
            symbol.signature = " ".join(first.split()).rstrip("{ ")
        return self._with_members(symbol, body, scope)

    def _macro_class(self, outer: Node, node: Node, name: str, scope: _Scope) -> Symbol:
        """``class GRPC_DLL ServerBuilder { ... };``: tree-sitter, not knowing the export macro,
        reads a function ``ServerBuilder`` returning ``class GRPC_DLL``. It is the class."""
        body = node.child_by_field_name("body")
        qualified = self._join(scope.prefix, name)
        symbol = self._spanning("class", qualified, scope.parent, node, outer, body)
        return self._with_members(symbol, body, scope)

    def _with_members(self, symbol: Symbol, body: Node | None, scope: _Scope) -> Symbol:
        """``symbol`` (a class) with the definitions and statements of its ``body``."""
        if body is not None:
            inner = _Scope(symbol.name, symbol.name, in_class=True, depth=scope.depth + 1)
            symbol.members = self._walk(body.named_children, inner)
        return symbol

    def _function(self, outer: Node, node: Node, function: Node, scope: _Scope) -> Symbol | None:
        """A function symbol; ``node`` names it, ``function`` holds its body."""
        spec = self.spec
        name = definition_name(spec, node)
        if not name:
            return None
        kind = "method" if scope.in_class else "function"
        parent = scope.parent
        if node.type == "method_declaration" and spec.name == "go":
            receiver = receiver_type(node)
            if receiver:
                kind, parent = "method", self._join(scope.prefix, receiver)
            qualified = self._join(parent or scope.prefix, name)
        elif scope.singleton or (node.type == "singleton_method" and scope.in_class):
            qualified = f"{scope.prefix}.{name}"  # Ruby: Class.method for `def self.method`
        elif scope.in_class:
            qualified = f"{scope.prefix}{spec.member_sep}{name}"
        else:
            qualified = self._join(scope.prefix, name)
        body = body_of(spec, function)
        decorators = [c for c in outer.children if c.type == "decorator"]
        symbol = self._spanning(kind, qualified, parent, node, outer, body)
        symbol.declaration_only = body is None and spec.name != "ruby"
        symbol.overload = any((d.text or b"").rstrip().endswith(b"overload") for d in decorators)
        return symbol

    def _js_value_function(self, outer: Node, node: Node, scope: _Scope) -> Symbol | None:
        if node.type in {"lexical_declaration", "variable_declaration"}:
            declarators = [c for c in node.named_children if c.type == "variable_declarator"]
            holder = declarators[0] if len(declarators) == 1 else None
        else:
            holder = node
        value = holder.child_by_field_name("value") if holder is not None else None
        if value is None or value.type not in _JS_FUNCTION_VALUES:
            return None
        symbol = self._function(outer, node, value, scope)
        if symbol is not None:
            symbol.signature = signature_of(self.source.data, node, symbol.body)
        return symbol

    def _js_assigned_function(self, outer: Node, node: Node, scope: _Scope) -> Symbol | None:
        """A function assigned at module level: ``res.redirect = function redirect(url) {}``,
        ``Router.prototype.handle = function () {}``, ``exports.handler = async () => {}``.

        Node's and pre-class JavaScript define most of their API this way; without it, whole
        modules were one unnamed remainder that a question naming ``res.redirect`` could only
        find by its text. Named by the assignment's target, ``prototype`` and the
        ``module.exports``/``exports`` prefix left out (``Router.handle``, ``handler``).
        """
        assignment = node.named_children[0] if node.named_child_count == 1 else None
        if assignment is None or assignment.type != "assignment_expression":
            return None
        left = assignment.child_by_field_name("left")
        right = assignment.child_by_field_name("right")
        if left is None or right is None or right.type not in _JS_FUNCTION_VALUES:
            return None
        parts = _assigned_path(left)
        if parts is None:
            return None
        parts = [p for p in parts if p != "prototype"]
        for prefix in (["module", "exports"], ["exports"]):
            if parts[: len(prefix)] == prefix:
                parts = parts[len(prefix) :]
                break
        if not parts:  # module.exports = function createApplication() {}
            own = right.child_by_field_name("name")
            parts = [own.text.decode("utf-8", "replace")] if own is not None and own.text else []
        if not parts:
            return None
        owner = self._join(scope.prefix, ".".join(parts[:-1])) if len(parts) > 1 else ""
        body = body_of(self.spec, right)
        kind = "method" if owner else "function"
        name = self._join(scope.prefix, ".".join(parts))
        return self._spanning(kind, name, owner or scope.parent, assignment, outer, body)

    # -- helpers ------------------------------------------------------------------------

    def _spanning(
        self, kind: str, name: str, parent: str, node: Node, outer: Node, body: Node | None
    ) -> Symbol:
        """A symbol over ``outer``, its signature the text of ``node`` before ``body``, its
        docstring the body's (Python; comments above are attached later by the walk)."""
        return Symbol(
            kind=kind,
            name=name,
            parent=parent,
            node=node,
            outer=outer,
            start=outer.start_byte,
            end=outer.end_byte,
            body=body,
            signature=signature_of(self.source.data, node, body),
            docstring=python_docstring(body) if self.spec.name == "python" else "",
        )

    def _join(self, prefix: str, name: str) -> str:
        return f"{prefix}{self.spec.scope_sep}{name}" if prefix else name

    def _attach(self, symbol: Symbol, pending: list[Node]) -> list[Node]:
        """Attach the comments right above ``symbol`` to it; return the others."""
        source = self.source
        attached: list[Node] = []
        for comment in reversed(pending):
            above = source.line_of(symbol.start) - 1
            last = source.line_of(max(comment.start_byte, comment.end_byte - 1))
            # A doc block (``/** ... */``: JSDoc, Javadoc, Doxygen) documents the definition
            # below it even across one blank line, as Express and much older Node code write it.
            doc_block = (
                not attached
                and last == above - 1
                and (comment.text or b"").lstrip().startswith(b"/**")
                and source.is_blank(source.line_start(above), source.line_end(above))
            )
            if last < above and not doc_block:
                break
            line_start = source.line_start(source.line_of(comment.start_byte))
            if not source.is_blank(line_start, comment.start_byte):
                break  # a trailing comment of the code before it
            attached.append(comment)
            symbol.start = comment.start_byte
        if attached and not symbol.docstring:
            texts = [
                (c.text or b"").decode("utf-8", "replace")
                for c in reversed(attached)
                if c.type in self.spec.comments
            ]
            symbol.docstring = clean_comment(texts)
        return pending[: len(pending) - len(attached)]

    @staticmethod
    def _merge_overloads(items: list[Item]) -> list[Item]:
        """Fold overload signatures into their implementation; body-less declarations that
        remain (interface methods, prototypes) stay plain text of their scope."""
        merged: list[Item] = []
        for item in items:
            previous = merged[-1] if merged else None
            if (
                isinstance(item, Symbol)
                and isinstance(previous, Symbol)
                and item.kind != "class"
                and previous.name == item.name
                and (previous.declaration_only or previous.overload)
            ):
                item.start = previous.start
                item.docstring = item.docstring or previous.docstring
                merged.pop()
            merged.append(item)
        return [i.outer if isinstance(i, Symbol) and i.declaration_only else i for i in merged]


def _assigned_path(target: Node) -> list[str] | None:
    """``a.b.c`` of an assignment target made of names only (``None`` for ``a[i]``,
    ``this.x`` or a call)."""
    if target.type == "identifier" and target.text:
        return [target.text.decode("utf-8", "replace")]
    if target.type != "member_expression":
        return None
    obj = target.child_by_field_name("object")
    prop = target.child_by_field_name("property")
    if obj is None or prop is None or prop.type != "property_identifier" or not prop.text:
        return None
    head = _assigned_path(obj)
    return None if head is None else [*head, prop.text.decode("utf-8", "replace")]


def _take_semicolon(symbol: Symbol, source: Source) -> None:
    """Extend a definition over the ``;`` that closes it (``class A { ... };``)."""
    after = symbol.outer.next_sibling
    if (
        after is not None
        and after.type == ";"
        and source.line_of(after.start_byte) == source.line_of(symbol.end - 1)
    ):
        symbol.end = after.end_byte
