"""Which language a file is written in, and what its tree-sitter grammar calls things.

Detection is by file name and extension first, then by shebang. Each parsed language has a
:class:`LanguageSpec`: the grammar loader (the official per-language wheel, offline) and the
node-type tables that :mod:`c2rag.chunk.symbols` walks. Prose and config formats are detected
too, so that their window chunks carry a useful ``language``; they have no spec.
"""

from __future__ import annotations

import functools
import importlib
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import tree_sitter

__all__ = [
    "SPECS",
    "LanguageSpec",
    "detect_language",
    "language_needs_content",
    "load_language",
]


@dataclass(frozen=True)
class LanguageSpec:
    """Node-type tables for one tree-sitter grammar.

    Attributes:
        name: Language name used in chunk metadata.
        module: Grammar wheel module (``tree_sitter_python``).
        entry: Function of ``module`` returning the grammar (``language``, ``language_tsx``).
        functions: Definitions that become function / method chunks.
        classes: Definitions that become a class skeleton plus member chunks.
        namespaces: Scopes that only qualify names (C++ namespaces, Rust modules); their
            members are walked as if at the enclosing level.
        transparent: Wrappers walked through without a name (preprocessor conditionals).
        wrappers: Nodes wrapping a single definition (decorators, ``export``, templates).
        comments: Comment node types, attached to the symbol that follows them.
        attached: Other node types attached like comments (Rust ``#[attributes]``).
        bodies: Child types holding a definition's body when it has no ``body`` field.
        member_sep: Separator between a type and its member in qualified names.
        scope_sep: Separator between nested scopes (namespaces, modules, outer classes).
    """

    name: str
    module: str
    entry: str = "language"
    functions: frozenset[str] = frozenset()
    classes: frozenset[str] = frozenset()
    namespaces: frozenset[str] = frozenset()
    transparent: frozenset[str] = frozenset()
    wrappers: frozenset[str] = frozenset()
    comments: frozenset[str] = frozenset({"comment"})
    attached: frozenset[str] = frozenset()
    bodies: frozenset[str] = field(default_factory=frozenset)
    member_sep: str = "."
    scope_sep: str = "."


def _f(*names: str) -> frozenset[str]:
    return frozenset(names)


_JS_FUNCTIONS = _f(
    "function_declaration",
    "generator_function_declaration",
    "method_definition",
    "function_signature",
    "method_signature",
    "abstract_method_signature",
)
_JS_CLASSES = _f(
    "class_declaration",
    "abstract_class_declaration",
    "interface_declaration",
    "enum_declaration",
)
_C_FAMILY_PREPROC = _f("preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif")

SPECS: dict[str, LanguageSpec] = {
    spec.name: spec
    for spec in (
        LanguageSpec(
            "python",
            "tree_sitter_python",
            functions=_f("function_definition"),
            classes=_f("class_definition"),
            wrappers=_f("decorated_definition"),
        ),
        LanguageSpec(
            "javascript",
            "tree_sitter_javascript",
            functions=_JS_FUNCTIONS,
            classes=_f("class_declaration"),
            wrappers=_f("export_statement"),
            attached=_f("decorator"),
        ),
        # TypeScript and TSX: one grammar package, two languages, the same node types
        *(
            LanguageSpec(
                name,
                "tree_sitter_typescript",
                f"language_{name}",
                functions=_JS_FUNCTIONS,
                classes=_JS_CLASSES,
                namespaces=_f("internal_module", "module"),
                wrappers=_f("export_statement", "expression_statement", "ambient_declaration"),
                attached=_f("decorator"),
            )
            for name in ("typescript", "tsx")
        ),
        LanguageSpec(
            "java",
            "tree_sitter_java",
            functions=_f(
                "method_declaration", "constructor_declaration", "compact_constructor_declaration"
            ),
            classes=_f(
                "class_declaration",
                "interface_declaration",
                "enum_declaration",
                "record_declaration",
                "annotation_type_declaration",
            ),
            comments=_f("line_comment", "block_comment"),
        ),
        LanguageSpec(
            "go",
            "tree_sitter_go",
            functions=_f("function_declaration", "method_declaration"),
            classes=_f("type_declaration"),
        ),
        LanguageSpec(
            "rust",
            "tree_sitter_rust",
            functions=_f("function_item", "function_signature_item"),
            classes=_f("impl_item", "trait_item", "struct_item", "enum_item", "union_item"),
            namespaces=_f("mod_item"),
            comments=_f("line_comment", "block_comment"),
            attached=_f("attribute_item"),
            member_sep="::",
            scope_sep="::",
        ),
        LanguageSpec(
            "c",
            "tree_sitter_c",
            functions=_f("function_definition"),
            classes=_f("struct_specifier", "union_specifier", "enum_specifier", "type_definition"),
            transparent=_C_FAMILY_PREPROC | _f("linkage_specification", "declaration_list"),
        ),
        LanguageSpec(
            "cpp",
            "tree_sitter_cpp",
            functions=_f("function_definition"),
            classes=_f(
                "class_specifier",
                "struct_specifier",
                "union_specifier",
                "enum_specifier",
                "type_definition",
            ),
            namespaces=_f("namespace_definition"),
            transparent=_C_FAMILY_PREPROC | _f("linkage_specification", "declaration_list"),
            wrappers=_f("template_declaration"),
            member_sep="::",
            scope_sep="::",
        ),
        LanguageSpec(
            "csharp",
            "tree_sitter_c_sharp",
            functions=_f(
                "method_declaration",
                "constructor_declaration",
                "destructor_declaration",
                "operator_declaration",
                "conversion_operator_declaration",
                "local_function_statement",
            ),
            classes=_f(
                "class_declaration",
                "struct_declaration",
                "interface_declaration",
                "enum_declaration",
                "record_declaration",
                "record_struct_declaration",
            ),
            namespaces=_f("namespace_declaration", "file_scoped_namespace_declaration"),
        ),
        LanguageSpec(
            "ruby",
            "tree_sitter_ruby",
            functions=_f("method", "singleton_method"),
            classes=_f("class", "module"),
            member_sep="#",
            scope_sep="::",
        ),
        LanguageSpec(
            "php",
            "tree_sitter_php",
            "language_php",
            functions=_f("function_definition", "method_declaration"),
            classes=_f(
                "class_declaration",
                "interface_declaration",
                "trait_declaration",
                "enum_declaration",
            ),
            namespaces=_f("namespace_definition"),
            member_sep="::",
            scope_sep="\\",
        ),
        LanguageSpec(
            "kotlin",
            "tree_sitter_kotlin",
            functions=_f("function_declaration", "secondary_constructor"),
            classes=_f("class_declaration", "object_declaration", "companion_object"),
            comments=_f("line_comment", "block_comment"),
            bodies=_f("class_body", "enum_class_body", "function_body"),
        ),
        LanguageSpec(
            "objc",
            "tree_sitter_objc",
            functions=_f("method_definition", "function_definition"),
            # an @interface/@implementation holds its members directly, with no body node
            classes=_f("class_interface", "class_implementation", "protocol_declaration"),
            transparent=_C_FAMILY_PREPROC,
            wrappers=_f("implementation_definition"),
            bodies=_f("compound_statement"),
        ),
        LanguageSpec(
            "swift",
            "tree_sitter_swift",
            functions=_f(
                "function_declaration",
                "init_declaration",
                "deinit_declaration",
                "protocol_function_declaration",
                "subscript_declaration",
            ),
            # class, struct, enum, extension and actor are all class_declaration
            classes=_f("class_declaration", "protocol_declaration"),
            comments=_f("comment", "multiline_comment"),
            bodies=_f("class_body", "protocol_body", "enum_class_body", "function_body"),
        ),
        LanguageSpec(
            "scala",
            "tree_sitter_scala",
            functions=_f("function_definition", "function_declaration"),
            classes=_f(
                "class_definition", "object_definition", "trait_definition", "enum_definition"
            ),
            comments=_f("comment", "block_comment"),
            bodies=_f("template_body"),
        ),
        LanguageSpec(
            "lua",
            "tree_sitter_lua",
            functions=_f("function_declaration"),
        ),
        LanguageSpec(
            "bash",
            "tree_sitter_bash",
            functions=_f("function_definition"),
        ),
    )
}

_EXTENSIONS: dict[str, str] = {
    # parsed
    ".py": "python", ".pyi": "python", ".pyw": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript",
    ".tsx": "tsx",
    ".java": "java",
    ".go": "go",
    ".rs": "rust",
    ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".c++": "cpp", ".hpp": "cpp", ".hh": "cpp",
    ".hxx": "cpp", ".h++": "cpp", ".ipp": "cpp", ".inl": "cpp", ".tpp": "cpp",
    ".cs": "csharp",
    ".rb": "ruby", ".rake": "ruby", ".gemspec": "ruby", ".ru": "ruby",
    ".php": "php", ".phtml": "php",
    ".kt": "kotlin", ".kts": "kotlin",
    ".mm": "objc",
    ".swift": "swift",
    ".scala": "scala", ".sc": "scala",
    ".lua": "lua",
    ".sh": "bash", ".bash": "bash",
    # windows only
    ".md": "markdown", ".markdown": "markdown", ".rst": "rst", ".txt": "text",
    ".json": "json", ".jsonc": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml",
    ".ini": "ini", ".cfg": "ini", ".xml": "xml", ".html": "html", ".htm": "html",
    ".css": "css", ".scss": "css", ".sql": "sql", ".zsh": "shell", ".pl": "perl", ".r": "r",
    ".dart": "dart", ".vue": "vue", ".svelte": "svelte", ".proto": "protobuf", ".pyx": "cython",
    ".pxd": "cython", ".ipynb": "json",
}  # fmt: skip

_FILENAMES: dict[str, str] = {
    "Rakefile": "ruby", "Gemfile": "ruby", "Vagrantfile": "ruby", "Podfile": "ruby",
    "Makefile": "make", "makefile": "make", "GNUmakefile": "make", "Dockerfile": "dockerfile",
    "CMakeLists.txt": "cmake", "BUILD": "starlark", "WORKSPACE": "starlark",
    ".bashrc": "bash", ".bash_profile": "bash", ".profile": "bash",
}  # fmt: skip

# interpreter named by a shebang → language
_INTERPRETERS: dict[str, str] = {
    "python": "python", "pypy": "python", "node": "javascript", "nodejs": "javascript",
    "deno": "typescript", "ts-node": "typescript", "tsx": "typescript", "bun": "javascript",
    "bash": "bash", "sh": "bash", "dash": "bash", "ksh": "bash", "zsh": "shell",
    "ruby": "ruby", "php": "php", "kotlin": "kotlin", "kscript": "kotlin", "lua": "lua",
    "luajit": "lua", "scala": "scala",
}  # fmt: skip
_VERSION_SUFFIX = re.compile(r"[\d.]+$")
_OBJC = re.compile(rb"^\s*(?:@interface|@implementation|@protocol|#import)\b", re.MULTILINE)
# ``.h`` is shared by C and C++: these only occur in C++ headers.
_CPP_HEADER = re.compile(
    rb"^\s*(?:namespace\b|template\s*<|class\s+\w+[^;]*\{|(?:public|private|protected)\s*:)"
    rb"|\bstd::|#include\s*<(?:string|vector|memory|iostream|map|utility|algorithm)>",
    re.MULTILINE,
)


def _from_shebang(head: bytes) -> str | None:
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").split()
    if not words:
        return None
    program = PurePosixPath(words[0]).name
    if program == "env":  # "#!/usr/bin/env -S python3 -u": skip env's own options
        rest = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        if not rest:
            return None
        program = PurePosixPath(rest[0]).name
    return _INTERPRETERS.get(_VERSION_SUFFIX.sub("", program) or program)


def detect_language(path: str, data: bytes | None = None) -> str:
    """Name the language of a file from its name, else from its shebang line.

    Args:
        path: File path (only the name and extension are used).
        data: The file's first bytes, for shebang detection of extension-less scripts.

    A ``.h`` header is C++ when its first 16 KiB hold C++-only syntax (``namespace``,
    ``template <``, ``std::``, access specifiers), else C.

    Returns:
        A language name: one of the keys of :data:`SPECS` for languages parsed into symbols,
        a prose/config name (``markdown``, ``yaml``, …) chunked in windows, or ``text``.

    Example:
        >>> detect_language("tools/release", b"#!/usr/bin/env python3\\n")
        'python'
    """
    name = PurePosixPath(path.replace("\\", "/")).name
    language = _by_name(name)
    if language is None and data:
        language = _from_shebang(data[:256])
    if name.endswith((".h", ".m")) and data and _OBJC.search(data[:16384]):
        language = "objc"  # a .m is Objective-C (or MATLAB), a .h may be an ObjC header
    elif name.endswith(".m"):
        language = "matlab"
    if language == "c" and name.endswith(".h") and data and _CPP_HEADER.search(data[:16384]):
        language = "cpp"
    return language or "text"


def language_needs_content(path: str) -> bool:
    """Whether a file's name leaves its language open, so that :func:`detect_language` must
    see its first bytes: no known name or extension (a shebang script), ``.m`` (Objective-C
    or MATLAB) or ``.h`` (C, C++ or Objective-C)."""
    name = PurePosixPath(path.replace("\\", "/")).name
    return _by_name(name) is None or name.endswith((".h", ".m"))


def _by_name(name: str) -> str | None:
    return _FILENAMES.get(name) or _EXTENSIONS.get(PurePosixPath(name).suffix.lower())


@functools.cache
def load_language(name: str) -> tree_sitter.Language | None:
    """The tree-sitter grammar of a language in :data:`SPECS`, or ``None`` when the
    language has no spec or its grammar wheel is not installed."""
    spec = SPECS.get(name)
    if spec is None:
        return None
    try:
        module = importlib.import_module(spec.module)
    except ImportError:
        return None
    return tree_sitter.Language(getattr(module, spec.entry)())
