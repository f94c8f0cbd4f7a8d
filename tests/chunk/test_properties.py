"""Properties over generated and mutated sources: the chunker never raises, every non-blank
line (and byte) of a file lands in some chunk, offsets stay exact, no chunk passes the hard cap."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from c2rag.chunk import Chunker, estimate_tokens
from tests.chunk.checks import assert_invariants

SAMPLES = sorted((Path(__file__).parent / "samples").iterdir())
EXTENSIONS = [".py", ".js", ".ts", ".tsx", ".java", ".go", ".rs", ".c", ".cpp", ".cs", ".rb",
              ".php", ".kt", ".sh", ".md", ".json", ".txt", ""]  # fmt: skip
JUNK = ["{", "}", "(", ")", ":", ";", "\n", "def ", "class ", "end\n", "fn ", "/*", '"""',
        "\t", "  ", "\x00", "é", "\ufffd"]  # fmt: skip

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated_sample(draw: st.DrawFn) -> tuple[str, bytes]:
    """A sample file with lines dropped, duplicated, junk inserted, or truncated."""
    path = draw(st.sampled_from(SAMPLES))
    lines = path.read_bytes().split(b"\n")
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "dup", "junk", "indent"]))
        if action == "drop":
            del lines[at : at + draw(st.integers(1, 5))]
        elif action == "dup":
            lines.insert(at, lines[at])
        elif action == "junk":
            lines[at] += draw(st.sampled_from(JUNK)).encode()
        else:
            lines[at] = b"    " + lines[at]
        if not lines:
            lines = [b""]
    data = b"\n".join(lines)
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]  # a truncated file
    return path.name.removesuffix(".txt"), data


def _flatten(blocks: list[list[str]]) -> list[str]:
    return [line for block in blocks for line in block]


_NAMES = st.sampled_from(["alpha", "beta", "Gamma", "_delta", "run", "Item"])


def _block(
    simple: st.SearchStrategy[str],
    header: st.SearchStrategy[str],
    *,
    indent: str,
    closer: list[str],
    depth: int,
) -> st.SearchStrategy[list[str]]:
    """Statements, some of them compound (a header, an indented block, a closing line)."""
    line = simple.map(lambda s: [s])
    if depth == 0:
        return st.lists(line, min_size=1, max_size=4).map(_flatten)
    inner = _block(simple, header, indent=indent, closer=closer, depth=depth - 1)
    compound = st.tuples(header, inner).map(
        lambda hb: [hb[0]] + [indent + x for x in hb[1]] + closer
    )
    return st.lists(st.one_of(line, compound), min_size=1, max_size=5).map(_flatten)


PYTHON_LINES = st.one_of(
    _NAMES.map(lambda n: f"{n} = compute({n!r})"),
    st.just("# a comment line"),
    st.just('"""A docstring."""'),
    st.just("return None"),
    _NAMES.map(lambda n: f"@{n}"),
)
PYTHON_HEADERS = st.one_of(
    _NAMES.map(lambda n: f"def {n}(self, x: int = 1) -> int:"),
    _NAMES.map(lambda n: f"class {n}(Base):"),
    st.just("if x > 1:"),
    st.just("async def go():"),
)
JS_LINES = st.one_of(
    _NAMES.map(lambda n: f"let {n} = call({n});"), st.just("// a comment"), st.just("return 0;")
)
JS_HEADERS = st.one_of(
    _NAMES.map(lambda n: f"function {n}(a, b) {{"),
    _NAMES.map(lambda n: f"class {n} extends Base {{"),
    _NAMES.map(lambda n: f"{n}(x) {{"),
    st.just("if (x) {"),
)


@st.composite
def generated_source(draw: st.DrawFn) -> tuple[str, bytes]:
    """A generated Python or JavaScript file, possibly truncated mid-definition."""
    python = draw(st.booleans())
    if python:
        lines = draw(_block(PYTHON_LINES, PYTHON_HEADERS, indent="    ", closer=[], depth=3))
    else:
        lines = draw(_block(JS_LINES, JS_HEADERS, indent="  ", closer=["}"], depth=3))
    data = "\n".join(lines).encode()
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return ("gen/mod.py" if python else "gen/mod.js"), data


def _check(name: str, data: bytes, max_tokens: int) -> None:
    chunker = Chunker(max_tokens=max_tokens, hard_max_tokens=max_tokens * 2)
    fc = chunker.chunk(name, data)
    assert_invariants(fc, data, verbatim=False)
    for chunk in fc.chunks:
        assert estimate_tokens(chunk.text) <= chunker.hard_max_tokens, chunk


@FAST
@given(mutated_sample(), st.sampled_from([32, 64, 512]))
def test_mutated_sources_are_fully_covered(sample: tuple[str, bytes], max_tokens: int) -> None:
    _check(*sample, max_tokens)


@FAST
@given(generated_source(), st.sampled_from([32, 64, 512]))
def test_generated_sources_are_fully_covered(source: tuple[str, bytes], max_tokens: int) -> None:
    _check(*source, max_tokens)


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from(EXTENSIONS))
def test_never_raises_on_any_bytes(data: bytes, extension: str) -> None:
    fc = Chunker(max_tokens=32).chunk(f"dir/file{extension}", data)
    if fc.skipped is None:
        assert_invariants(fc, data, verbatim=False)
    else:
        assert fc.chunks == []


@FAST
@given(st.text(max_size=1500), st.sampled_from(EXTENSIONS), st.binary(max_size=3))
def test_text_with_stray_bytes_is_covered(text: str, extension: str, stray: bytes) -> None:
    data = text.encode("utf-8", "surrogatepass")
    data = data[: len(data) // 2] + stray.replace(b"\0", b"") + data[len(data) // 2 :]
    fc = Chunker(max_tokens=32).chunk(f"x{extension}", data)
    if fc.skipped is None:
        assert_invariants(fc, data, verbatim=False)
