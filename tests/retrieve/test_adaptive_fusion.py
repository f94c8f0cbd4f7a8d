"""Adaptive fusion, collapsing parts of one symbol, and the query-evidence helpers (pure)."""

from __future__ import annotations

import pytest

from c2rag.retrieve.arrange import (
    arrange,
    asks_for_tests,
    is_test_code,
    named_first,
    symbol_parts,
    whole_definition,
)
from c2rag.retrieve.channels import dialogue_mentions, identifier_share, symbol_channel
from c2rag.retrieve.dialogue import Turn, as_turns, cap_turns
from c2rag.retrieve.filters import SearchFilters, compile_filters, emptied_by
from c2rag.retrieve.fusion import FusionWeights, QueryEvidence, adaptive_fuse, fuse
from c2rag.store.symbols import SymbolInfo, SymbolTable
from c2rag.types import Chunk, Hit


def _dense(n: int) -> list[tuple[str, float]]:
    return [(f"d{i}", 0.8 - 0.005 * i) for i in range(n)]


def test_a_standout_lexical_match_enters_the_top_10_and_flat_bm25_does_not_reorder() -> None:
    params = FusionWeights()
    standout = {
        "dense": _dense(100),
        "lexical": [("x", 30.0)] + [(f"l{i}", 5.0) for i in range(99)],
    }
    fused = [f.id for f in adaptive_fuse(standout, QueryEvidence(), params)]
    assert "x" in fused[:10]
    # BM25 ranking prose: flat scores, nothing shared with dense → dense's order stands
    flat = {"dense": _dense(100), "lexical": [(f"l{i}", 5.0 - 0.001 * i) for i in range(100)]}
    assert [f.id for f in adaptive_fuse(flat, QueryEvidence(), params)][:5] == [
        "d0",
        "d1",
        "d2",
        "d3",
        "d4",
    ]


def test_every_hit_explains_its_score_and_fusion_is_deep_and_deterministic() -> None:
    rankings = {
        "dense": _dense(100),
        "lexical": [(f"d{i}", 10.0 - i * 0.1) for i in range(0, 100, 2)],
        "symbol": [("d7", 1.0)],
    }
    evidence = QueryEvidence(identifier_share=0.5)
    once = adaptive_fuse(rankings, evidence, FusionWeights())
    assert once == adaptive_fuse(rankings, evidence, FusionWeights())
    assert len(once) == 100  # every channel votes to its full depth, not only its top 20
    for item in once:
        assert item.score == pytest.approx(sum(item.contributions.values()))
    assert set(once[0].contributions) <= {"dense", "lexical", "symbol"}
    by_id = {f.id: f for f in once}
    assert by_id["d7"].contributions["symbol"] > 0 and by_id["d7"].channels["symbol"] == 1.0


def test_identifier_evidence_raises_the_exact_channels() -> None:
    rankings = {"dense": _dense(20), "lexical": [("x", 9.0), ("d5", 8.0)], "symbol": [("x", 1.0)]}
    prose = adaptive_fuse(rankings, QueryEvidence(identifier_share=0.0), FusionWeights())
    named = adaptive_fuse(rankings, QueryEvidence(identifier_share=0.5), FusionWeights())
    rank = lambda fused: [f.id for f in fused].index("x")  # noqa: E731
    assert rank(named) < rank(prose)
    assert "symbol" not in {c for f in prose for c in f.contributions}  # no names, no vote


def test_non_adaptive_weights_are_plain_rrf() -> None:
    rankings = {"dense": [("a", 0.9), ("b", 0.8)], "lexical": [("b", 3.0)]}
    only = fuse(rankings, QueryEvidence(), FusionWeights.only("lexical"))
    assert [f.id for f in only] == ["b"]
    with pytest.raises(ValueError, match="score_share"):
        FusionWeights(score_share=2.0)
    with pytest.raises(ValueError, match="hint must be >= 0"):
        FusionWeights(hint=-1.0)


def test_backticked_names_in_prose_and_plain_words_do_not_act_as_code() -> None:
    docstring = "Return a :class:`Response` object for the given :meth:`send` call and its hooks"
    assert identifier_share(docstring) == 0.0
    assert identifier_share("where is `Session.send` defined?") >= 0.5
    table = SymbolTable()
    table.add("concat", SymbolInfo("a.py", "pkg.concat", "function", "python", 1, 3))
    prose = dialogue_mentions(as_turns("how do I concat two lists"))
    assert symbol_channel(table, prose, k=5, allowed=None) == []
    alone = dialogue_mentions(as_turns("concat"))
    assert [cid for cid, _ in symbol_channel(table, alone, k=5, allowed=None)] == ["concat"]


def test_equal_name_matches_rank_the_longer_definition_first() -> None:
    # Django's translation/__init__.py delegates get_supported_language_variant in one line
    # to trans_real.py, where the code is: the implementation ranks before the wrapper.
    table = SymbolTable()
    table.add("a-wrap", SymbolInfo("t/__init__.py", "t.variant", "function", "python", 5, 6))
    table.add("b-impl", SymbolInfo("t/real.py", "t.real.variant", "function", "python", 10, 60))
    mentions = dialogue_mentions(as_turns("`variant()` returns the wrong code"))
    ranked = symbol_channel(table, mentions, k=5, allowed=None)
    assert [cid for cid, _ in ranked] == ["b-impl", "a-wrap"]
    assert ranked[0][1] == ranked[1][1]


def _table() -> SymbolTable:
    table = SymbolTable()
    for n, (start, end) in enumerate([(10, 40), (41, 70), (71, 75)], start=1):
        table.add(f"part{n}", SymbolInfo("m.py", "m.big", "function", "python", start, end))
    table.add("head", SymbolInfo("m.py", "m", "module", "python", 1, 9))
    table.add("tail", SymbolInfo("m.py", "m", "module", "python", 80, 200))
    table.add("doc", SymbolInfo("README.md", "README.md", "window", "markdown", 1, 30))
    table.add("other", SymbolInfo("n.py", "n.small", "function", "python", 1, 5))
    return table


def test_parts_of_one_symbol_take_one_slot_and_prose_and_data_step_back() -> None:
    from c2rag.retrieve.fusion import Fused

    fused = [
        Fused(cid, score, {}, {"dense": score})
        for cid, score in [
            ("part3", 1.0),
            ("doc", 0.95),
            ("tail", 0.9),
            ("part1", 0.85),
            ("other", 0.8),
            ("head", 0.7),
        ]
    ]
    table = _table()
    plain = arrange(fused, table, k=10)
    assert [a.fused.id for a in plain] == ["part3", "doc", "tail", "other", "head"]
    assert plain[0].members == ("part1",)
    demoted = arrange(fused, table, k=10, prose_penalty=0.7)
    assert [a.fused.id for a in demoted] == ["part3", "other", "doc", "tail", "head"]
    assert demoted[2].contributions["prose_or_data_penalty"] < 0
    # a module chunk whose docstring explains the file is exempt
    exempt = arrange(fused, table, k=10, prose_penalty=0.7, explained={"head"})
    assert [a.fused.id for a in exempt] == ["part3", "other", "head", "doc", "tail"]
    assert len(arrange(fused, table, k=2)) == 2
    assert symbol_parts("part3", table) == ["part1", "part2", "part3"]
    first = named_first(plain, [("other", 1.0)], identifier_share=0.5)
    assert first[0].fused.id == "other" and first[0].whole
    assert named_first(plain, [("other", 1.0)], identifier_share=0.1)[0].fused.id == "part3"


def test_the_same_code_in_two_files_takes_one_slot_and_one_idiom_in_two_classes_two() -> None:
    from c2rag.retrieve.fusion import Fused

    table = SymbolTable()
    for cid, path, name, parent, lines, text_id in [
        ("copy", "bindings/py/codec.py", "bindings.py.codec.Codec.decode", "Codec", (10, 20), "t1"),
        ("orig", "codec.py", "codec.Codec.decode", "Codec", (10, 20), "t1"),
        ("idiom_a", "a.py", "a.A.name", "A", (3, 4), "t2"),
        ("idiom_b", "b.py", "b.B.name", "B", (3, 4), "t2"),
        ("alias_a", "a.py", "a.alias", "", (9, 9), "t3"),
        ("alias_b", "b.py", "b.alias", "", (9, 9), "t3"),
    ]:
        kind = "method" if parent else "function"
        table.add(cid, SymbolInfo(path, name, kind, "python", *lines, parent, text_id))
    order = ["copy", "idiom_a", "orig", "idiom_b", "alias_a", "alias_b"]
    fused = [Fused(cid, 1.0 - 0.1 * n, {}, {"dense": 1.0 - 0.1 * n}) for n, cid in enumerate(order)]
    arranged = arrange(fused, table, k=10)
    assert [a.fused.id for a in arranged] == ["copy", "idiom_a", "idiom_b", "alias_a", "alias_b"]
    assert arranged[0].members == ("orig",) and arranged[0].copies == ("orig",)
    # a split function and its copy: every part of the copy follows its first part
    split = SymbolTable()
    for cid, path, lines, text_id in [
        ("b1", "b/big.py", (1, 40), "p1"),
        ("b2", "b/big.py", (41, 80), "p2"),
        ("a1", "a/big.py", (1, 40), "p1"),
        ("a2", "a/big.py", (41, 80), "p2"),
    ]:
        split.add(cid, SymbolInfo(path, "big", "function", "python", *lines, "", text_id))
    parts = [Fused(cid, 1.0 - 0.1 * n, {}, {}) for n, cid in enumerate(["b2", "a1", "b1", "a2"])]
    (only,) = arrange(parts, split, k=10)
    assert (only.fused.id, only.members, only.copies) == ("b2", ("a1", "b1", "a2"), ("a1", "a2"))


def test_whole_definition_spans_every_part() -> None:
    parts = [
        Hit(
            f"p{n}",
            Chunk("m.py", "python", "function", "m.big", a, b, f"line {a}", part=n, parts=3),
            0.5,
            "c0",
        )
        for n, (a, b) in enumerate([(41, 70), (10, 40), (71, 75)], start=1)
    ]
    whole = whole_definition(parts)
    assert whole.id == "p1"
    assert (whole.chunk.start_line, whole.chunk.end_line, whole.chunk.parts) == (10, 75, 1)
    assert whole.chunk.text.splitlines() == ["line 10", "line 41", "line 71"]


def test_huge_queries_are_cut_with_a_note_and_empty_filters_name_the_culprit() -> None:
    turns, notes = cap_turns([Turn("user", "x" * 1_000_000)], max_chars=32_000)
    assert len(turns[0].text) == 32_000 and "cut from 1,000,000" in notes[0]
    table = _table()
    wanted = SearchFilters(paths=("m.py",), languages=("markdown",))
    assert compile_filters(wanted, table).matches_nothing
    note = emptied_by(wanted, table)
    assert "all of the filters together" in note and "paths" in note
    note = emptied_by(SearchFilters(paths=("nowhere/**",)), table)
    assert "filter paths=['nowhere/**'] matches no indexed chunk" in note
    with pytest.raises(ValueError, match=r"languages in this index: \['markdown', 'python'\]"):
        compile_filters(SearchFilters(languages=("cobol",)), table)


def test_windows_of_one_page_of_docs_take_one_slot_and_code_windows_do_not() -> None:
    from c2rag.retrieve.fusion import Fused

    table = SymbolTable()
    for n in range(1, 4):
        table.add(f"cli{n}", SymbolInfo("docs/cli.md", "docs/cli.md", "window", "markdown",
                                        20 * n, 20 * n + 19))  # fmt: skip
        # a language chunked in windows only (no grammar): each window is its own place
        table.add(
            f"lua{n}", SymbolInfo("init.lua", "init.lua", "window", "lua", 20 * n, 20 * n + 5)
        )
        # configuration and build files answer once per file, like a page of docs
        table.add(
            f"mk{n}", SymbolInfo("Makefile", "Makefile", "window", "make", 20 * n, 20 * n + 5)
        )
    table.add("code", SymbolInfo("a.py", "a.f", "function", "python", 1, 9))
    order = ["cli2", "cli1", "lua1", "mk2", "cli3", "lua2", "mk1", "code"]
    fused = [Fused(cid, 1.0 - i / 10, {}, {"dense": 1.0 - i / 10}) for i, cid in enumerate(order)]
    arranged = arrange(fused, table, k=10)
    assert [a.fused.id for a in arranged] == ["cli2", "lua1", "mk2", "lua2", "code"]
    assert arranged[0].members == ("cli1", "cli3")
    assert arranged[2].members == ("mk1",)
    assert symbol_parts("cli3", table) == ["cli1", "cli2", "cli3"]
    # the prose/data penalty reaches the page and the Makefile, not the code windows
    factors = {a.fused.id: a.factor for a in arrange(fused, table, k=10, prose_penalty=0.5)}
    assert factors == {"cli2": 0.5, "mk2": 0.5, "lua1": 1.0, "lua2": 1.0, "code": 1.0}


@pytest.mark.parametrize(
    ("path", "test"),
    [
        ("tests/test_upload.py", True),
        ("pkg/tests/helpers.py", True),
        ("src/test/java/org/UploadTest.java", True),
        ("storage/upload_test.go", True),
        ("web/upload.spec.ts", True),
        ("web/__tests__/upload.js", True),
        ("conftest.py", True),
        ("Sources/UploadTests.swift", True),
        ("src/storage/upload.py", False),
        ("src/attestation.py", False),
        ("src/latest/contest.py", False),
        ("docs/testing-guide.md", False),
    ],
)
def test_test_code_is_recognised_by_its_path(path: str, test: bool) -> None:
    assert is_test_code(SymbolInfo(path, "x", "function", "python", 1, 2)) is test


def test_test_code_steps_back_unless_the_question_is_about_tests() -> None:
    from c2rag.retrieve.fusion import Fused

    table = SymbolTable()
    table.add("t", SymbolInfo("tests/test_up.py", "test_retry", "function", "python", 1, 9))
    table.add("lib", SymbolInfo("up.py", "retry", "function", "python", 1, 9))
    table.add("mod", SymbolInfo("tests/conftest.py", "conftest", "module", "python", 1, 9))
    fused = [
        Fused(cid, score, {}, {"dense": score})
        for cid, score in [("t", 1.0), ("mod", 0.95), ("lib", 0.8)]
    ]
    assert [a.fused.id for a in arrange(fused, table, k=5)] == ["t", "mod", "lib"]
    demoted = arrange(fused, table, k=5, prose_penalty=0.6, test_penalty=0.6)
    assert [a.fused.id for a in demoted] == ["lib", "t", "mod"]
    by_id = {a.fused.id: a for a in demoted}
    assert by_id["t"].contributions["test_code_penalty"] == pytest.approx(-0.4)
    assert by_id["t"].score == pytest.approx(0.6)
    # both penalties on a module chunk of a test file; the parts still add up to the score
    assert by_id["mod"].score == pytest.approx(0.95 * 0.36)
    assert sum(by_id["mod"].contributions.values()) == pytest.approx(by_id["mod"].score)
    assert "test_code_penalty" not in by_id["lib"].contributions
    assert asks_for_tests("which test covers retries?")
    assert asks_for_tests("the pytest fixture that builds a client")
    assert not asks_for_tests("retry failed uploads with the latest attestation")


def test_the_symbol_table_knows_which_texts_are_copied() -> None:
    table = SymbolTable()
    table.add("a", SymbolInfo("a.py", "a.f", "function", "python", 1, 5, "", "t1"))
    table.add("b", SymbolInfo("b.py", "b.f", "function", "python", 1, 5, "", "t1"))
    table.add("c", SymbolInfo("a.py", "a.g", "function", "python", 7, 9, "", "t2"))
    table.add("d", SymbolInfo("a.py", "a.h", "function", "python", 11, 13, "", "t2"))
    assert table.copied == {"t1"}  # t2 is twice in one file: not a copy of a file
    table.remove("b")
    assert table.copied == frozenset()
    table.add("b", SymbolInfo("b.py", "b.f", "function", "python", 1, 5, "", "t1"))
    assert SymbolTable.from_json(table.to_json()).copied == {"t1"}
