"""Each knob of ChunkPolicy changes chunk text as documented, and never the citations: lines and
bytes stay exact and every line of the file stays inside some chunk."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from c2rag.chunk import Chunker, ChunkPolicy, estimate_tokens
from c2rag.errors import ChunkingError
from tests.chunk.checks import assert_invariants

VERBATIM = ChunkPolicy.verbatim()


def _function(statements: int) -> bytes:
    body = "".join(f"    total += compute_value(item_{i}, scale={i})\n" for i in range(statements))
    return f"def long_function(items, scale):\n{body}    return total\n".encode()


def _lone_tail_case() -> tuple[bytes, list[str]]:
    """A function whose last part, without merging, is its final ``return`` alone: a long
    last statement (its length found by trying) fills the part before it."""
    for n in range(1, 80):
        arguments = ", ".join(f"a{i}" for i in range(n))
        data = _function(12).replace(
            b"    return total\n", f"    total += combine({arguments})\n    return total\n".encode()
        )
        chunks = Chunker(max_tokens=64, policy=VERBATIM).chunk("f.py", data).chunks
        if chunks[-1].text == "def long_function(items, scale):\n    return total":
            return data, [c.text for c in chunks]
    raise AssertionError("no statement length leaves the return alone")


def test_a_lone_tail_part_is_merged_into_its_neighbour() -> None:
    data, before = _lone_tail_case()
    fc = Chunker(max_tokens=64).chunk("f.py", data)
    assert_invariants(fc, data, verbatim=False)
    assert len(fc.chunks) == len(before) - 1
    last = fc.chunks[-1]
    assert last.text.endswith("    return total") and len(last.text.splitlines()) > 2
    assert last.end_line == data.count(b"\n")  # the merged part still cites the return
    assert [c.part for c in fc.chunks] == list(range(1, len(fc.chunks) + 1))
    assert {c.parts for c in fc.chunks} == {len(fc.chunks)}
    assert all(estimate_tokens(c.text) <= 64 * 5 // 4 for c in fc.chunks)


def test_tail_merging_can_be_turned_off() -> None:
    data, before = _lone_tail_case()
    policy = dataclasses.replace(ChunkPolicy(), min_part_tokens=0, min_part_lines=0)
    texts = [c.text for c in Chunker(max_tokens=64, policy=policy).chunk("f.py", data).chunks]
    assert texts == before


def _big_class(methods: int) -> bytes:
    body = "".join(
        f"    def method_{i}(self, value):\n        return value + {i}\n\n" for i in range(methods)
    )
    return f"class Big(Base):\n    '''Many methods.'''\n\n    limit = 3\n\n{body}".encode()


def test_a_large_skeleton_is_one_chunk_naming_the_members_it_does_not_show() -> None:
    data = _big_class(40)
    policy = dataclasses.replace(ChunkPolicy(), skeleton_max_tokens=64)
    fc = Chunker(max_tokens=128, policy=policy).chunk("big.py", data)
    assert_invariants(fc, data)
    skeletons = [c for c in fc.chunks if c.kind == "class"]
    assert len(skeletons) == 1
    skeleton = skeletons[0]
    assert (skeleton.start_line, skeleton.end_line) == (1, data.count(b"\n") - 1)
    assert skeleton.text.startswith("class Big(Base):\n    '''Many methods.'''")
    assert "def method_0(self, value):\n        ..." in skeleton.text
    shown = [i for i in range(40) if f"def method_{i}(self" in skeleton.text]
    listed = skeleton.text.rsplit("\n", 1)[1]
    assert listed.lstrip().startswith("... ") and "more lines" in listed
    assert shown and max(shown) < 39 and "method_39" in listed  # hidden members are named
    assert estimate_tokens(skeleton.text) <= fc_hard_cap(128)
    assert len([c for c in fc.chunks if c.kind == "method"]) == 40  # members keep their chunks


def fc_hard_cap(max_tokens: int) -> int:
    return Chunker(max_tokens=max_tokens).hard_max_tokens


def test_an_uncapped_skeleton_is_split_into_parts() -> None:
    data = _big_class(40)
    policy = dataclasses.replace(ChunkPolicy(), skeleton_max_tokens=None)
    fc = Chunker(max_tokens=128, policy=policy).chunk("big.py", data)
    assert_invariants(fc, data)
    skeletons = [c for c in fc.chunks if c.kind == "class"]
    assert len(skeletons) > 1
    assert all("more lines" not in c.text for c in skeletons)


def test_a_small_skeleton_is_not_touched_by_the_cap() -> None:
    data = _big_class(3)
    capped = Chunker(max_tokens=128).chunk("big.py", data).chunks
    before = Chunker(max_tokens=128, policy=VERBATIM).chunk("big.py", data).chunks
    assert [c.text for c in capped] == [c.text for c in before]


_TABLE = "".join(f'    "key_{i}": ("value {i}", {i}, {i * 2.5}, True),\n' for i in range(60))
_DATA_MODULE = f"""import os

TABLE = {{
{_TABLE}}}


def lookup(name):
    return TABLE[name]
""".encode()


def test_a_data_table_is_shown_by_its_first_line_but_stays_cited() -> None:
    fc = Chunker().chunk("pkg/table.py", _DATA_MODULE)
    assert_invariants(fc, _DATA_MODULE)
    module = [c for c in fc.chunks if c.kind == "module"]
    assert len(module) == 1
    text = module[0].text
    assert "import os" in text and "TABLE = { ...  (62 lines of data)" in text
    assert "key_5" not in text
    assert module[0].start_line == 1 and module[0].end_line == 64  # the table's lines
    lookup = next(c for c in fc.chunks if c.kind == "function")
    assert lookup.text == "def lookup(name):\n    return TABLE[name]"


def test_data_tables_are_kept_when_the_policy_says_so() -> None:
    fc = Chunker(policy=VERBATIM).chunk("pkg/table.py", _DATA_MODULE)
    assert_invariants(fc, _DATA_MODULE)
    assert any("key_59" in c.text for c in fc.chunks if c.kind == "module")


def test_module_code_is_not_mistaken_for_data() -> None:
    calls = "".join(f"register(handler_{i}, option=config.get(name_{i}))\n" for i in range(60))
    data = f"import config\n\n{calls}".encode()
    fc = Chunker(max_tokens=2048).chunk("setup_hooks.py", data)
    assert_invariants(fc, data)
    assert all("lines of data" not in c.text for c in fc.chunks)
    assert any("handler_59" in c.text for c in fc.chunks)


def test_a_javascript_object_of_literals_is_data() -> None:
    entries = "".join(f'  code{i}: "message number {i}",\n' for i in range(50))
    data = f"export const MESSAGES = {{\n{entries}}};\n\nexport function hi() {{ return 1; }}\n"
    fc = Chunker().chunk("messages.js", data.encode())
    assert_invariants(fc, data.encode())
    module = next(c for c in fc.chunks if c.kind == "module")
    assert "lines of data" in module.text and "code7" not in module.text


def test_repeated_header_can_be_turned_off() -> None:
    data = _function(60)
    policy = dataclasses.replace(ChunkPolicy(), repeat_header=False)
    fc = Chunker(max_tokens=64, policy=policy).chunk("f.py", data)
    assert_invariants(fc, data)
    assert len(fc.chunks) > 3
    for chunk in fc.chunks[1:]:
        assert chunk.text == data[chunk.start_byte : chunk.end_byte].decode()
        assert not chunk.text.startswith("def long_function")
    with_header = Chunker(max_tokens=64).chunk("f.py", data).chunks
    assert all(c.text.startswith("def long_function(items, scale):") for c in with_header)


def test_the_policy_is_part_of_the_chunker_version() -> None:
    assert Chunker().version != Chunker(policy=VERBATIM).version
    assert Chunker().version == Chunker(policy=ChunkPolicy()).version


@pytest.mark.parametrize(
    ("field", "value"),
    [("skeleton_max_tokens", 8), ("data_max_tokens", 0), ("min_part_tokens", -1)],
)
def test_invalid_policy_values_are_named(field: str, value: int) -> None:
    with pytest.raises(ChunkingError, match=field):
        ChunkPolicy(**{field: value})


def test_a_policy_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(ChunkingError, match="policy"):
        Chunker(policy={"repeat_header": False})  # type: ignore[arg-type]


def test_a_lone_tail_takes_statements_from_a_full_neighbour() -> None:
    # max_tokens == hard cap (how CodeIndex runs a small-window model): no part can grow, so
    # the tail borrows the last statements of the part before it instead
    data, before = _lone_tail_case()
    fc = Chunker(max_tokens=64, hard_max_tokens=64).chunk("f.py", data)
    assert_invariants(fc, data, verbatim=False)
    assert len(fc.chunks) == len(before)
    last = fc.chunks[-1]
    assert last.text.startswith("def long_function(items, scale):\n")
    assert last.text.endswith("    return total") and len(last.text.splitlines()) > 2
    assert all(estimate_tokens(c.text) <= 64 for c in fc.chunks)
    for previous, chunk in itertools.pairwise(fc.chunks):
        assert chunk.start_line == previous.end_line + 1
