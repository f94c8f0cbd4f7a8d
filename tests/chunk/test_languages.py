"""Language detection by name, extension and shebang; every grammar loads offline."""

from __future__ import annotations

import pytest

from c2rag.chunk import SPECS, Chunker, detect_language, language_needs_content
from c2rag.chunk.languages import load_language


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("a/b.py", "python"), ("x.pyi", "python"), ("app.jsx", "javascript"),
        ("app.mjs", "javascript"), ("svc.ts", "typescript"), ("ui/App.tsx", "tsx"),
        ("Main.java", "java"), ("main.go", "go"), ("lib.rs", "rust"), ("x.h", "c"),
        ("x.hpp", "cpp"), ("x.cc", "cpp"), ("P.cs", "csharp"), ("Rakefile", "ruby"),
        ("x.gemspec", "ruby"), ("index.php", "php"), ("App.kt", "kotlin"),
        ("build.gradle.kts", "kotlin"), ("run.sh", "bash"), ("README.md", "markdown"),
        ("pyproject.toml", "toml"), ("ci.yml", "yaml"), ("NOTES", "text"),
        ("C:\\w\\A.JAVA", "java"), ("Sources/App.swift", "swift"), ("Main.scala", "scala"),
        ("build.sc", "scala"), ("init.lua", "lua"), ("ios/RNSScreen.mm", "objc"),
    ],
)  # fmt: skip
def test_detect_by_name(path: str, language: str) -> None:
    assert detect_language(path) == language


def test_objective_c_is_told_by_its_directives() -> None:
    # .m is Objective-C or MATLAB, and an Objective-C header is a .h like C's
    assert detect_language("RNSRouter.m", b"#import <UIKit/UIKit.h>\n") == "objc"
    assert detect_language("fit.m", b"function y = fit(x)\n  y = x;\nend\n") == "matlab"
    assert detect_language("RNSRouter.h", b"@interface RNSRouter : NSObject\n@end\n") == "objc"
    assert detect_language("table.h", b"#include <stdio.h>\nint n(void);\n") == "c"


@pytest.mark.parametrize(
    ("first_line", "language"),
    [
        (b"#!/usr/bin/env python3\n", "python"),
        (b"#!/usr/bin/python3.12 -u\n", "python"),
        (b"#!/usr/bin/env -S python3 -X dev\n", "python"),
        (b"#!/usr/bin/env node\n", "javascript"),
        (b"#!/bin/bash\n", "bash"),
        (b"#!/bin/sh -e\n", "bash"),
        (b"#!/usr/bin/env ruby\n", "ruby"),
        (b"#!/usr/bin/env -S deno run\n", "typescript"),
        (b"#!/usr/bin/env php\n", "php"),
        (b"#!/usr/bin/env\n", "text"),
        (b"#!\n", "text"),
        (b"# not a shebang\n", "text"),
    ],
)
def test_detect_by_shebang(first_line: bytes, language: str) -> None:
    assert detect_language("scripts/tool", first_line) == language


@pytest.mark.parametrize(
    ("path", "open_"),
    [
        ("tools/release", True),  # a shebang decides
        ("src/Foo.m", True),  # Objective-C or MATLAB
        ("include/foo.h", True),  # C, C++ or Objective-C
        ("src/app.py", False),
        ("docs/index.md", False),
        ("Makefile", False),
    ],
)
def test_which_names_leave_the_language_to_the_content(path: str, open_: bool) -> None:
    assert language_needs_content(path) is open_


def test_extension_wins_over_shebang() -> None:
    assert detect_language("x.rb", b"#!/usr/bin/env python\n") == "ruby"


def test_shebang_script_is_parsed_into_symbols() -> None:
    data = b"#!/usr/bin/env python3\nimport sys\n\n\ndef main():\n    return 0\n"
    fc = Chunker().chunk("bin/release", data)
    assert fc.language == "python"
    assert [(c.kind, c.name) for c in fc.chunks] == [
        ("module", "bin.release"),
        ("function", "bin.release.main"),
    ]


@pytest.mark.parametrize("language", sorted(SPECS))
def test_every_grammar_loads_and_parses(language: str) -> None:
    import tree_sitter

    grammar = load_language(language)
    assert grammar is not None
    tree = tree_sitter.Parser(grammar).parse(b"x")
    assert tree.root_node is not None


def test_bash_functions() -> None:
    data = b"#!/bin/bash\nset -e\n\n# Builds it.\nbuild() {\n  make all\n}\n\nbuild\n"
    fc = Chunker().chunk("build.sh", data)
    rows = [(c.kind, c.name, c.start_line, c.end_line, c.docstring) for c in fc.chunks]
    assert rows == [("module", "build.sh", 1, 9, ""), ("function", "build", 4, 7, "Builds it.")]


def test_headers_are_told_apart() -> None:
    assert detect_language("x.h", b"#include <stdio.h>\nint add(int a, int b);\n") == "c"
    assert detect_language("x.h", b"#pragma once\nnamespace geo {\nclass Box;\n}\n") == "cpp"
    assert detect_language("x.h", b"#include <vector>\nint n();\n") == "cpp"
    assert detect_language("x.h", b"template <typename T>\nT twice(T v);\n") == "cpp"
    fc = Chunker().chunk("box.h", b"class Box {\npublic:\n  int side() const { return 1; }\n};\n")
    assert [(c.kind, c.name) for c in fc.chunks] == [("class", "Box"), ("method", "Box::side")]


NODE_MODULE = b"""var res = Object.create(http.ServerResponse.prototype);
module.exports = res;

/**
 * Redirect to the given `url`.
 */
res.redirect = function redirect(url) {
  this.location(url);
};

Router.prototype.handle = function (req, res) {
  return next(req, res);
};

exports.handler = async (event) => {
  return event.body;
};

module.exports.compile = function (x) { return x; };
handlers[name] = function () {};

function setup(app) {
  app.local = function () { return 1; };
}
"""


@pytest.mark.parametrize("path", ["lib/response.js", "lib/response.ts"])
def test_functions_assigned_at_module_level_are_symbols(path: str) -> None:
    """Node-style APIs (``res.redirect = function ...``, ``Router.prototype.handle = ...``)
    are named definitions, not an unnamed module remainder."""
    fc = Chunker().chunk(path, NODE_MODULE)
    assert fc.flags == ()
    named = {c.name: c for c in fc.chunks if c.kind in ("function", "method")}
    assert set(named) == {"res.redirect", "Router.handle", "handler", "compile", "setup"}
    redirect = named["res.redirect"]
    assert (redirect.kind, redirect.parent, redirect.start_line, redirect.end_line) == (
        "method",
        "res",
        4,
        9,
    )
    assert redirect.docstring == "Redirect to the given `url`."
    assert redirect.signature == "res.redirect = function redirect(url)"
    assert named["Router.handle"].parent == "Router"
    assert named["handler"].kind == "function"
    # An assignment inside a function body stays part of that function.
    assert "app.local" not in named and "local" not in named


def test_a_doc_block_documents_the_definition_one_blank_line_below() -> None:
    """Express writes ``/** ... */``, a blank line, then the function: the block is still its
    documentation. A plain block comment, or a doc block two blank lines up, is not."""
    data = b"""/* Copyright notice. */

/**
 * Set the Location header to `url`.
 */

res.location = function location(url) {
  return this.set('Location', url);
};

/**
 * Far away.
 */


function far() {
  return 1;
}
"""
    fc = Chunker().chunk("lib/response.js", data)
    docs = {c.name: c.docstring for c in fc.chunks if c.kind != "module"}
    assert docs["res.location"] == "Set the Location header to `url`."
    assert docs["far"] == ""
    assert next(c for c in fc.chunks if c.name == "res.location").start_line == 3
