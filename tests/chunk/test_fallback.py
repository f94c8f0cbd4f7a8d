"""Line windows for prose, config, unknown languages and failed parses."""

from __future__ import annotations

import itertools

from c2rag.chunk import Chunker
from tests.chunk.checks import assert_invariants


def test_prose_is_windowed_with_overlap() -> None:
    data = "".join(f"Line {i} of the guide.\n" for i in range(1, 131)).encode()
    fc = Chunker(window_lines=50, window_overlap=5).chunk("docs/guide.md", data)
    assert fc.language == "markdown"
    assert_invariants(fc, data)
    ranges = [(c.start_line, c.end_line) for c in fc.chunks]
    assert ranges == [(1, 50), (46, 95), (91, 130)]
    assert {c.kind for c in fc.chunks} == {"window"} and {c.name for c in fc.chunks} == {
        "docs/guide.md"
    }
    assert [c.part for c in fc.chunks] == [1, 2, 3] and {c.parts for c in fc.chunks} == {3}


def test_windows_also_respect_the_token_cap() -> None:
    data = "".join(f"key_{i} = {' '.join(['value'] * 20)}\n" for i in range(40)).encode()
    fc = Chunker(max_tokens=64).chunk("settings.ini", data)
    assert_invariants(fc, data)
    assert len(fc.chunks) > 10 and all(c.end_line - c.start_line < 4 for c in fc.chunks)


def test_a_window_before_a_huge_line_is_not_repeated() -> None:
    """Before a line too big to share a window, the overlap must not make a window of the last
    one's tail alone: each window reaches a line the one before did not."""
    small = "".join(f"x{i} = {i}\n" for i in range(12))
    huge = "y = [" + ", ".join(f"item_{i}" for i in range(60)) + "]\n"
    data = (small + huge + small).encode()
    fc = Chunker(max_tokens=64, hard_max_tokens=64).chunk("settings.ini", data)
    assert_invariants(fc, data)
    ends = [c.end_byte for c in fc.chunks]  # the huge line's pieces share its line number
    assert all(b > a for a, b in itertools.pairwise(ends)), ends


def test_unknown_language_and_blank_files() -> None:
    data = b"(defun hello () (print 1))\n"
    fc = Chunker().chunk("init.el", data)
    assert (fc.language, [c.kind for c in fc.chunks]) == ("text", ["window"])
    assert Chunker().chunk("empty.py", b"").chunks == []
    assert Chunker().chunk("blank.py", b"\n  \n\t\n").chunks == []
    assert Chunker().chunk("blank.md", b"\n\n").chunks == []


def test_unparsable_source_falls_back_to_windows() -> None:
    data = b"}}}} ))) ]]] $$$ ?? !! \n" * 30 + b"def ok():\n    return 1\n"
    fc = Chunker().chunk("broken.py", data)
    assert fc.flags == ("parse_failed",)
    assert_invariants(fc, data)
    assert {c.kind for c in fc.chunks} == {"window"} and fc.language == "python"


def test_syntax_error_keeps_the_good_symbols() -> None:
    data = b"def good():\n    return 1\n\n\ndef bad(:\n    pass\n\n\nclass Fine:\n    x = 1\n"
    fc = Chunker().chunk("partial.py", data)
    assert fc.flags == ()
    assert_invariants(fc, data)
    names = {c.name for c in fc.chunks}
    assert {"partial.good", "partial.Fine"} <= names


def test_a_guarded_extern_c_block_keeps_its_functions() -> None:
    """``#ifdef __cplusplus / extern "C" { / #endif`` leaves a brace the C grammar cannot
    match, and tree-sitter wraps the rest of the file in one ERROR node, though every function
    in it parses. Such files (common C headers and sources) must keep their symbols, not fall
    back to line windows."""
    functions = "".join(
        f"static int check_{i}(const char *name, int size) {{\n"
        f"  if (size < {i}) return -1;\n"
        f"  return lookup(name, size + {i});\n"
        "}\n\n"
        for i in range(8)
    )
    data = (
        '#include "table.h"\n\n#ifdef __cplusplus\nextern "C" {\n#endif\n\n'
        f"{functions}"
        '#ifdef __cplusplus\n}  /* extern "C" */\n#endif\n'
    ).encode()
    fc = Chunker().chunk("src/table.c", data)
    assert_invariants(fc, data)
    assert fc.flags == ()
    assert [c.name for c in fc.chunks if c.kind == "function"] == [f"check_{i}" for i in range(8)]
    # upb closes the block in an included file: the brace never closes, tree-sitter wraps the
    # rest of the file in one ERROR node, and the functions inside still parse.
    unclosed = data.split(b"#ifdef __cplusplus\n}")[0] + b'#include "port/undef.inc"\n'
    fc = Chunker().chunk("src/table.c", unclosed)
    assert_invariants(fc, unclosed)
    assert fc.flags == ()
    assert [c.name for c in fc.chunks if c.kind == "function"] == [f"check_{i}" for i in range(8)]


def test_a_class_declared_with_an_export_macro_is_a_class() -> None:
    """``class GRPC_DLL ServerBuilder {`` (gRPC, protobuf, Qt, LLVM all export this way):
    tree-sitter, not knowing the macro, reads a *function* ``ServerBuilder`` returning
    ``class GRPC_DLL``, so the class was one function chunk and its methods no symbols."""
    data = (
        b"namespace grpc {\n/// A builder of servers.\n"
        b"class GRPC_DLL ServerBuilder : public Base {\n public:\n  ServerBuilder();\n"
        b"  int Port() const { return port_; }\n private:\n  int port_;\n};\n"
        b"struct PROTOBUF_EXPORT Options final {\n  bool enabled;\n};\n"
        b"int helper(int x) { return x; }\n}\n"
    )
    fc = Chunker().chunk("server_builder.h", data)
    assert_invariants(fc, data)
    kinds = {c.name: c.kind for c in fc.chunks if c.kind != "module"}
    assert kinds == {
        "grpc::ServerBuilder": "class",
        "grpc::ServerBuilder::Port": "method",
        "grpc::Options": "class",
        "grpc::helper": "function",
    }
    builder = next(c for c in fc.chunks if c.name == "grpc::ServerBuilder")
    assert builder.text.startswith("/// A builder of servers.\nclass GRPC_DLL ServerBuilder")
