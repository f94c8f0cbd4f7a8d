"""pack_context: budget, merging, outlines, references, citations that resolve exactly."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from c2rag.context import Freshness, pack_context
from c2rag.types import Chunk, Citation, Hit

COMMIT = "a" * 40
FILE_LINES = [f"line_{n} = compute({n}, value_{n % 7})" for n in range(1, 121)]
FILE_TEXT = "\n".join(FILE_LINES)


def _hit(start: int, end: int, score: float, *, path: str = "pkg/mod.py", **kw: object) -> Hit:
    text = kw.pop("text", None) or "\n".join(FILE_LINES[start - 1 : end])
    kind = kw.pop("kind", "function")
    name = kw.pop("name", f"mod.f{start}")
    chunk = Chunk(path, "python", kind, name, start, end, text)  # type: ignore[arg-type]
    return Hit(f"{path}#{start}-{end}#{name}", chunk, score, COMMIT)


def _words(text: str) -> int:
    return len(text.split())


def _resolve(cite: Citation) -> str:
    return "\n".join(FILE_LINES[cite.start_line - 1 : cite.end_line])


ranges = st.lists(
    st.tuples(st.integers(1, 110), st.integers(0, 25), st.floats(0.01, 1.0), st.booleans()),
    min_size=1,
    max_size=14,
)


@settings(max_examples=150, deadline=None)
@given(spans=ranges, budget=st.integers(1, 900), cap=st.integers(1, 5))
def test_packing_properties(
    spans: list[tuple[int, int, float, bool]], budget: int, cap: int
) -> None:
    hits = [
        _hit(s, min(s + n + 2, 120), score, kind="class", name=f"C{s}", text="class C:\n    ...")
        if outline
        else _hit(s, min(s + n, 120), score)
        for s, n, score, outline in spans
    ]
    packed = pack_context(hits, budget_tokens=budget, count_tokens=_words, max_chunks_per_file=cap)
    # never over budget
    assert _words(packed.render()) <= budget
    assert packed.used_tokens == _words(packed.render())
    # ordered by line, never overlapping (nor adjacent: those merge)
    starts = [(s.citation.start_line, s.citation.end_line) for s in packed.snippets]
    assert starts == sorted(starts)
    for a, b in itertools.pairwise(packed.snippets):
        assert a.citation.end_line < b.citation.start_line
        if a.verbatim and b.verbatim:
            assert a.citation.end_line + 1 < b.citation.start_line
    # citations resolve to exactly the lines shown
    for s in packed.snippets:
        assert s.text == (_resolve(s.citation) if s.verbatim else "class C:\n    ...")
        assert (
            str(s.citation)
            == f"pkg/mod.py:{s.citation.start_line}-{s.citation.end_line}@aaaaaaaaaaaa"
        )
    # every hit is accounted for exactly once
    shown = packed.ids
    dropped = [d.id for d in packed.dropped if d.reason != "duplicate"]
    assert len(shown) == len(set(shown))
    assert sorted(set(shown) | set(dropped)) == sorted({h.id for h in hits})
    assert not set(shown) & set(dropped)


def test_overlapping_and_adjacent_ranges_merge() -> None:
    hits = [_hit(10, 20, 0.9), _hit(15, 30, 0.8), _hit(31, 35, 0.7), _hit(60, 62, 0.6)]
    packed = pack_context(hits, budget_tokens=10_000)
    assert [(s.citation.start_line, s.citation.end_line) for s in packed.snippets] == [
        (10, 35),
        (60, 62),
    ]
    first = packed.snippets[0]
    assert first.symbols == ("mod.f10", "mod.f15", "mod.f31")
    assert first.text == _resolve(first.citation)
    assert first.score == 0.9
    assert "### pkg/mod.py:10-35@aaaaaaaaaaaa (mod.f10, mod.f15, mod.f31)" in packed.render()


def test_files_ordered_by_relevance_then_line() -> None:
    hits = [
        _hit(50, 55, 0.9, path="b.py"),
        _hit(5, 8, 0.8, path="a.py"),
        _hit(1, 3, 0.7, path="b.py"),
    ]
    packed = pack_context(hits, budget_tokens=10_000)
    assert [(s.path, s.citation.start_line) for s in packed.snippets] == [
        ("b.py", 1),
        ("b.py", 50),
        ("a.py", 5),
    ]


def test_budget_prefers_best_hits_and_reports_drops() -> None:
    big, small = _hit(1, 100, 0.9), _hit(110, 112, 0.5)
    packed = pack_context([big, small], budget_tokens=60, count_tokens=_words)
    assert packed.ids == [small.id]
    assert [(d.id, d.reason) for d in packed.dropped] == [(big.id, "budget")]


def test_per_file_cap() -> None:
    hits = [_hit(n * 10, n * 10 + 2, 1 - n / 100) for n in range(1, 6)]
    packed = pack_context(hits, budget_tokens=10_000, max_chunks_per_file=2)
    assert packed.ids == [hits[0].id, hits[1].id]
    assert {d.reason for d in packed.dropped} == {"per_file_cap"}


def test_outline_replaces_many_members_but_not_few() -> None:
    outline = _hit(
        10, 60, 0.5, kind="class", name="mod.Big", text="class Big:\n    def a(self): ...\n    ..."
    )
    members = [_hit(s, s + 3, 0.9 - s / 1000, kind="method") for s in (12, 25, 40)]
    many = pack_context([*members, outline], budget_tokens=10_000)
    # the best hit (the answer) stays verbatim beside the outline of its class
    assert [s.kind for s in many.snippets] == ["class", "code"]
    assert list(many.snippets[1].ids) == [members[0].id]
    assert "class outline, bodies elided" in many.render()
    assert {d.reason for d in many.dropped} == {"in_skeleton"}
    few = pack_context([members[0], outline], budget_tokens=10_000)
    assert [s.kind for s in few.snippets] == ["code"]
    assert [d.reason for d in few.dropped] == ["members_shown"]


def test_given_chunks_become_references() -> None:
    old, new = _hit(10, 20, 0.9), _hit(40, 45, 0.8)
    packed = pack_context([old, new, new], budget_tokens=10_000, given={old.id})
    assert packed.ids == [new.id]
    assert [r.id for r in packed.references] == [old.id]
    assert [d.reason for d in packed.dropped] == ["duplicate"]
    text = packed.render()
    assert "Already in context above (not repeated):\n- pkg/mod.py:10-20@aaaaaaaaaaaa" in text
    assert _resolve(old.citation) not in text


def test_source_gives_exact_lines_for_parts_with_headers() -> None:
    header = "def long_function(a, b):  # part 2/2"
    part = _hit(30, 33, 0.9, text=header + "\n" + "\n".join(FILE_LINES[29:33]))
    without = pack_context([part], budget_tokens=10_000)
    assert not without.snippets[0].verbatim  # shown as written, flagged as not a slice
    packed = pack_context([part], budget_tokens=10_000, source=lambda hit: FILE_TEXT)
    assert packed.snippets[0].verbatim
    assert packed.snippets[0].text == _resolve(packed.snippets[0].citation)


def test_parts_parted_by_blank_lines_show_as_one_snippet() -> None:
    # The JDK's processWorkerExit: its two parts (976-1002, 1004-1015) came back as two
    # snippets of one function, split at the blank line between them.
    lines = list(FILE_LINES)
    lines[29] = lines[30] = "   "  # lines 30-31 blank
    first = _hit(20, 29, 0.9, name="mod.exit", text="\n".join(lines[19:29]))
    second = _hit(32, 40, 0.5, name="mod.exit", text="\n".join(lines[31:40]))
    apart = _hit(42, 45, 0.4, name="mod.other", text="\n".join(lines[41:45]))
    lines[45] = ""
    other = _hit(47, 50, 0.3, name="mod.next", text="\n".join(lines[46:50]))
    packed = pack_context(
        [first, second, apart, other], budget_tokens=10_000, source=lambda h: "\n".join(lines)
    )
    spans = [(s.citation.start_line, s.citation.end_line) for s in packed.snippets]
    # line 41 holds code: no merge across it; mod.other and mod.next are two functions, each
    # keeps its own citation though only a blank line parts them
    assert spans == [(20, 40), (42, 45), (47, 50)]
    assert packed.snippets[0].text == "\n".join(lines[19:40])
    # without the file, the blank lines are unknown: the parts stay apart
    alone = pack_context([first, second], budget_tokens=10_000)
    assert len(alone.snippets) == 2


def test_freshness_is_carried_and_rendered() -> None:
    def check(hit: Hit) -> Freshness:
        return Freshness(hit.commit, "b" * 40, changed=hit.chunk.path == "old.py")

    packed = pack_context(
        [_hit(1, 2, 0.9, path="old.py"), _hit(1, 2, 0.8, path="new.py")],
        budget_tokens=10_000,
        freshness=check,
    )
    assert [s.freshness.stale for s in packed.snippets if s.freshness] == [True, False]
    assert packed.render().count("STALE: file changed between aaaaaaaaaaaa and bbbbbbbbbbbb") == 1


def test_default_estimate_and_bad_arguments() -> None:
    packed = pack_context([_hit(1, 50, 1.0), _hit(70, 72, 0.5)], budget_tokens=100)
    assert 0 < packed.used_tokens <= 100
    with pytest.raises(ValueError, match="budget_tokens"):
        pack_context([], budget_tokens=0)
    assert pack_context([], budget_tokens=10).render() == ""


def test_freshness_names_the_working_tree_when_head_did_not_move() -> None:
    from c2rag.context import Freshness

    sha = "a" * 40
    assert Freshness(sha, sha, True).describe() == (
        "STALE: file changed between aaaaaaaaaaaa and the working tree"
    )
    assert Freshness(sha, None, True).describe().endswith("and the working tree")
    assert Freshness(sha, "b" * 40, True).describe().endswith("and bbbbbbbbbbbb")
    assert Freshness(sha, sha, False).describe() == "fresh"
