"""Golden tests: names, kinds and line ranges of the chunks of real-looking files, per language.

Each sample in ``samples/`` exercises methods, nested classes, decorators or annotations,
generics, overloads, docstrings and comments above definitions. Expected rows were read off
the sample files; the invariants check offsets and lines against the bytes as well.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from c2rag.chunk import Chunker
from tests.chunk.checks import assert_invariants

SAMPLES = Path(__file__).parent / "samples"

GOLDEN: dict[str, tuple[str, list[tuple[str, str, int, int]]]] = {
    "python": (
        "sample.py",
        [
            ("function", "sample._log", 12, 19),
            ("class", "sample.Item", 22, 38),
            ("method", "sample.Item.empty", 30, 32),
            ("class", "sample.Item.Meta", 34, 38),
            ("method", "sample.Item.Meta.describe", 37, 38),
            ("class", "sample.Inventory", 41, 49),
            ("method", "sample.Inventory.add", 42, 44),
            ("method", "sample.Inventory.total", 46, 49),
            ("class", "sample.Parser", 52, 60),
            ("method", "sample.Parser.parse", 53, 60),  # two @overload stubs + implementation
        ],
    ),
    "javascript": (
        "sample.js",
        [
            ("function", "withTax", 6, 12),
            ("function", "sum", 14, 14),
            ("class", "Cart", 16, 36),
            ("method", "Cart.constructor", 19, 21),
            ("method", "Cart.add", 23, 27),
            ("method", "Cart.empty", 29, 31),
            ("method", "Cart.size", 33, 35),
            ("function", "ids", 38, 41),
        ],
    ),
    "typescript": (
        "sample.ts",
        [
            ("class", "Repository", 3, 6),
            ("class", "Status", 8, 11),
            ("class", "MemoryRepository", 15, 26),
            ("method", "MemoryRepository.find", 19, 21),
            ("method", "MemoryRepository.save", 23, 25),
            ("function", "parse", 28, 32),  # overload signatures folded into the implementation
            ("function", "handler", 34, 36),
            ("function", "Legacy.old", 39, 39),
            ("class", "Service", 42, 46),
            ("method", "Service.run", 44, 45),
        ],
    ),
    "tsx": (
        "sample.tsx",
        [
            ("function", "Counter", 5, 13),
            ("function", "Badge", 15, 15),
            ("class", "Panel", 17, 21),
            ("method", "Panel.render", 18, 20),
        ],
    ),
    "java": (
        "Sample.java",
        [
            ("class", "com.example.shop.Cart", 6, 38),
            ("method", "com.example.shop.Cart.Cart", 12, 13),
            ("method", "com.example.shop.Cart.add", 15, 20),
            ("method", "com.example.shop.Cart.add", 22, 27),
            ("class", "com.example.shop.Cart.Line", 29, 35),
            ("method", "com.example.shop.Cart.Line.total", 32, 34),
            ("class", "com.example.shop.Cart.Mode", 37, 37),
            ("class", "com.example.shop.Item", 40, 42),
            ("class", "com.example.shop.Price", 44, 48),
            ("method", "com.example.shop.Price.Price", 45, 47),
        ],
    ),
    "go": (
        "sample.go",
        [
            ("class", "store.Product", 11, 15),
            ("class", "store.Store", 17, 21),
            ("class", "store.Finder", 23, 25),
            ("function", "store.New", 27, 30),
            ("method", "store.Store.Get", 32, 41),
            ("method", "store.Product.String", 43, 43),
        ],
    ),
    "rust": (
        "sample.rs",
        [
            ("class", "Point", 5, 10),
            ("class", "Shape", 12, 17),
            ("method", "Shape::name", 14, 16),
            ("class", "Point", 19, 24),
            ("method", "Point::new", 20, 23),
            ("class", "Point", 26, 30),
            ("method", "Point::fmt", 27, 29),
            ("class", "Kind", 32, 35),
            ("function", "util::clamp", 38, 40),
        ],
    ),
    "c": (
        "sample.c",
        [
            ("class", "buffer", 6, 10),
            ("class", "point", 12, 14),
            ("function", "buffer_push", 18, 24),
            ("function", "name_of", 26, 30),
            ("function", "main", 32, 37),
        ],
    ),
    "cpp": (
        "sample.cpp",
        [
            ("class", "geo::Shape", 6, 11),
            ("class", "geo::Box", 13, 29),
            ("method", "geo::Box::Box", 16, 16),
            ("method", "geo::Box::area", 18, 20),
            ("function", "geo::total", 35, 40),
            ("function", "twice", 42, 45),
            ("function", "main", 47, 50),
        ],
    ),
    "csharp": (
        "Sample.cs",
        [
            ("class", "Shop.Orders.Line", 6, 7),
            ("class", "Shop.Orders.IOrderRepository", 9, 12),
            ("class", "Shop.Orders.Order", 14, 43),
            ("method", "Shop.Orders.Order.Order", 24, 27),
            ("method", "Shop.Orders.Order.Add", 29, 33),
            ("method", "Shop.Orders.Order.Add", 35, 35),
            ("method", "Shop.Orders.Order.Total", 37, 40),
            ("class", "Shop.Orders.Order.State", 42, 42),
            ("class", "Shop.Orders.Money", 45, 48),
        ],
    ),
    "ruby": (
        "sample.rb",
        [
            ("class", "Billing", 5, 31),
            ("class", "Billing::Invoice", 7, 30),
            ("method", "Billing::Invoice#initialize", 12, 14),
            ("method", "Billing::Invoice#total", 16, 19),
            ("method", "Billing::Invoice.load", 21, 23),
            ("class", "Billing::Invoice::Line", 25, 29),
            ("method", "Billing::Invoice::Line#amount", 26, 28),
            ("function", "helper", 33, 35),
        ],
    ),
    "php": (
        "sample.php",
        [
            ("class", "App\\Models\\User", 9, 34),
            ("method", "App\\Models\\User::__construct", 19, 22),
            ("method", "App\\Models\\User::name", 24, 28),
            ("method", "App\\Models\\User::find", 30, 33),
            ("class", "App\\Models\\HasName", 36, 39),
            ("class", "App\\Models\\Notifiable", 41, 44),
            ("method", "App\\Models\\Notifiable::notify", 43, 43),
            ("function", "App\\Models\\slugify", 46, 49),
        ],
    ),
    "objc": (
        "sample.m",
        [
            ("class", "RNSRouter", 3, 7),  # the @interface
            ("class", "RNSRouter", 9, 25),  # the @implementation
            ("method", "RNSRouter.addPath:handler:", 13, 17),  # named by its selector
            ("method", "RNSRouter.shared", 19, 23),
            ("class", "RNSRouter", 27, 29),  # a category is named by its class
            ("class", "RNSRouter", 31, 36),
            ("method", "RNSRouter.reset", 32, 35),
            ("class", "RNSHandler", 38, 40),
            ("function", "normalize", 42, 45),
        ],
    ),
    "swift": (
        "sample.swift",
        [
            ("class", "Point", 3, 16),
            ("method", "Point.init", 8, 11),
            ("method", "Point.moved", 13, 15),
            ("class", "Router", 18, 33),
            ("method", "Router.add", 22, 24),
            ("method", "Router.route", 26, 28),
            ("method", "Router.deinit", 30, 32),
            ("class", "Router", 35, 39),  # an extension is named by the type it extends
            ("method", "Router.shared", 36, 38),
            ("class", "Handler", 41, 43),
            ("class", "Method", 45, 47),
            ("function", "normalize", 49, 51),
        ],
    ),
    "scala": (
        "sample.scala",
        [
            ("class", "com.acme.http.Router", 5, 16),
            ("method", "com.acme.http.Router.add", 9, 11),
            ("method", "com.acme.http.Router.route", 13, 13),
            ("method", "com.acme.http.Router.handle", 15, 15),
            ("class", "com.acme.http.Router", 18, 20),  # the companion object
            ("method", "com.acme.http.Router.apply", 19, 19),
            ("class", "com.acme.http.Handler", 22, 24),
            ("class", "com.acme.http.Point", 26, 28),
            ("method", "com.acme.http.Point.moved", 27, 27),
            ("function", "com.acme.http.normalize", 30, 31),
        ],
    ),
    "lua": (
        "sample.lua",
        [
            ("function", "Router.new", 5, 11),
            ("function", "Router.add", 13, 16),  # Router:add, a method by Lua's colon
            ("function", "Router.route", 18, 20),
            ("function", "normalize", 22, 27),
        ],
    ),
    "kotlin": (
        "sample.kt",
        [
            ("class", "com.example.library.Book", 7, 10),
            ("class", "com.example.library.Shelf", 12, 36),
            ("method", "com.example.library.Shelf.add", 16, 20),
            ("method", "com.example.library.Shelf.add", 22, 24),
            ("method", "com.example.library.Shelf.longest", 26, 27),
            ("class", "com.example.library.Shelf.Companion", 29, 31),
            ("method", "com.example.library.Shelf.Companion.empty", 30, 30),
            ("class", "com.example.library.Shelf.Cursor", 33, 35),
            ("method", "com.example.library.Shelf.Cursor.next", 34, 34),
            ("class", "com.example.library.Catalog", 38, 40),
            ("class", "com.example.library.Registry", 42, 44),
            ("method", "com.example.library.Registry.register", 43, 43),
            ("class", "com.example.library.Genre", 46, 46),
            ("function", "com.example.library.main", 48, 50),
        ],
    ),
}

_SHORT_NAME = re.compile(r"[^.:#\\]+$")


def _chunk(name: str):
    # Samples are stored as ``<name>.txt`` so that linters leave their style alone.
    data = (SAMPLES / f"{name}.txt").read_bytes()
    return Chunker().chunk(name, data), data


@pytest.mark.parametrize("language", sorted(GOLDEN))
def test_symbols_match_the_file(language: str) -> None:
    name, expected = GOLDEN[language]
    fc, data = _chunk(name)
    assert (fc.language, fc.skipped, fc.flags) == (language, None, ())
    symbols = [(c.kind, c.name, c.start_line, c.end_line) for c in fc.chunks if c.kind != "module"]
    assert symbols == expected
    assert_invariants(fc, data)
    lines = data.decode().splitlines()
    for c in fc.chunks:
        if c.kind == "module":
            continue
        # an Objective-C selector ends in ":" (addPath:handler:): its last keyword names it
        short = _SHORT_NAME.search(c.name.rstrip(":")).group()  # type: ignore[union-attr]
        assert short.lower() in c.signature.lower(), c
        # the signature is made of the chunk's own words, not invented
        assert all(word in c.text for word in c.signature.split()), c
        own_lines = lines[c.start_line - 1 : c.end_line]
        assert any(short.lower() in line.lower() for line in own_lines), c


@pytest.mark.parametrize("language", sorted(GOLDEN))
def test_methods_name_their_class_as_parent(language: str) -> None:
    fc, _ = _chunk(GOLDEN[language][0])
    classes = {c.name for c in fc.chunks if c.kind == "class"}
    for c in fc.chunks:
        if c.kind == "method":
            assert c.parent in classes, c
            assert c.name.startswith(c.parent), c
        elif c.kind == "function":
            assert c.parent == ""


def test_python_skeleton_module_and_docstrings() -> None:
    fc, _ = _chunk("sample.py")
    by_name = {c.name: c for c in fc.chunks}
    item = by_name["sample.Item"]
    assert item.docstring == "One stock-keeping unit."
    assert item.text.startswith(
        "# Items are immutable records.\n@dataclass(frozen=True)\nclass Item:"
    )
    assert "quantity: int = 0" in item.text  # fields stay in the skeleton
    assert "def empty(self) -> bool:\n        ..." in item.text  # method bodies are elided
    assert "return self.quantity == 0" not in item.text
    assert "class Meta:\n        ..." in item.text
    assert by_name["sample._log"].docstring == "Log every call of ``fn``."
    assert "def wrapper" in by_name["sample._log"].text  # a small nested function stays inside
    module = by_name["sample"]
    assert module.kind == "module" and module.docstring.startswith("Inventory helpers")
    assert "MAX_ITEMS = 100" in module.text and 'if __name__ == "__main__":' in module.text
    assert "def " not in module.text and "\n\n\n" not in module.text
    parse = by_name["sample.Parser.parse"]
    assert parse.text.count("@overload") == 2 and parse.signature == "def parse(self, raw)"


def test_leading_comments_become_docstrings() -> None:
    java = {(c.name, c.start_line): c for c in _chunk("Sample.java")[0].chunks}
    assert java["com.example.shop.Cart", 6].docstring == "A shopping cart."
    add = java["com.example.shop.Cart.add", 15]
    assert add.docstring == "Adds an item and returns the cart."
    assert add.signature == "@Override public Cart<T> add(T item)"
    assert java["com.example.shop.Cart.add", 22].docstring == ""
    rust = {(c.name, c.start_line): c for c in _chunk("sample.rs")[0].chunks}
    assert rust["Point", 5].docstring == "A point in the plane."
    assert rust["Point", 5].text.splitlines()[1] == "#[derive(Debug, Clone, Copy)]"
    csharp = {c.name: c for c in _chunk("Sample.cs")[0].chunks}
    assert csharp["Shop.Orders.Line"].docstring == "An order line."
    assert csharp["Shop.Orders.Order"].docstring == "An order with lines."
    go = {c.name: c for c in _chunk("sample.go")[0].chunks}
    assert go["store.Store.Get"].docstring == "Get returns the product stored under key."


def test_brace_skeletons_elide_bodies() -> None:
    rust = [c for c in _chunk("sample.rs")[0].chunks if c.kind == "class" and c.start_line == 26]
    assert rust[0].signature == "impl fmt::Display for Point<f64>"
    assert "-> fmt::Result { ... }" in rust[0].text and "write!" not in rust[0].text
    cpp = {c.name: c for c in _chunk("sample.cpp")[0].chunks}
    assert "double area() const override { ... }" in cpp["geo::Box"].text
    assert "struct Corner {" in cpp["geo::Box"].text  # nested struct without methods stays
    assert cpp["geo::Shape"].text.rstrip().endswith("};")
    module = cpp["sample.cpp"]
    assert "namespace geo {" in module.text and "double total(" in module.text


CORNERS = {
    "config.rb": (
        "class Config\n  class << self\n    def load\n      1\n    end\n  end\nend\n",
        "class Config 1-7; method Config.load 3-5",
    ),
    "A.cs": (
        "namespace Shop.Core;\n\npublic class A\n{\n    void M() { }\n}\n",
        "module A.cs 1-1; class Shop.Core.A 3-6; method Shop.Core.A.M 5-5",
    ),
    "ops.cpp": (
        "bool operator==(const A& a, const A& b) { return true; }\nFoo::~Foo() { }\n"
        "struct S { bool operator<(const S& o) const { return false; } };\n",
        "function operator== 1-1; function Foo::~Foo 2-2; class S 3-3; method S::operator< 3-3",
    ),
    "ext.kt": (
        "fun String.shout() = uppercase()\n\nclass A {\n    fun Int.double() = this * 2\n}\n",
        "function shout 1-1; class A 3-5; method A.double 4-4",
    ),
    "shape.ts": (
        "abstract class Shape {\n  abstract area(): number;\n  describe() { return 1; }\n}\n",
        "class Shape 1-4; method Shape.describe 3-3",
    ),
    "suit.php": (
        "<?php\nenum Suit: string {\n    case Hearts = 'H';\n    public function color() {}\n}\n",
        "module suit.php 1-1; class Suit 2-5; method Suit::color 4-4",
    ),
}


@pytest.mark.parametrize("path", sorted(CORNERS))
def test_language_corners(path: str) -> None:
    """Ruby ``class << self``, C# file-scoped namespaces, C++ operators and out-of-class
    destructors, Kotlin extension functions, TS abstract methods, PHP enums."""
    source, expected = CORNERS[path]
    data = source.encode()
    fc = Chunker().chunk(path, data)
    rows = [f"{c.kind} {c.name} {c.start_line}-{c.end_line}" for c in fc.chunks]
    assert "; ".join(rows) == expected
    assert_invariants(fc, data)
