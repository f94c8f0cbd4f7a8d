"""CodeQASession: multi-turn dialogue, follow-ups without symbols, references, freshness."""

from __future__ import annotations

import pytest

from c2rag.context import estimate_tokens
from c2rag.retrieve import CodeQASession, CodeRetriever
from c2rag.types import Citation


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _symbols(turn) -> set[str]:
    return {_short(s) for snippet in turn.context.snippets for s in snippet.symbols}


def test_three_turn_dialogue_follow_ups_without_symbols(codeqa_retriever: CodeRetriever) -> None:
    session = CodeQASession(codeqa_retriever, budget_tokens=1500, k=5)
    first = session.ask("Where do we retry failed uploads?")
    assert not first.follow_up
    assert "retry_with_backoff" in _symbols(first)

    second = session.ask("And who calls it?")
    focus = [_short(f) for f in second.focus]
    assert second.follow_up and set(focus) & {"retry_with_backoff", "upload_file"}
    # the caller of what "it" refers to, though the question names nothing
    caller = {"retry_with_backoff": "upload_file", "upload_file": "main"}[focus[0]]
    assert caller in _symbols(second) | {_short(r.symbol) for r in second.context.references}
    assert _short(second.hits[0].chunk.name) == caller

    third = session.ask("Does that handle rate limiting with status 429?")
    assert third.follow_up
    shown = _symbols(third) | {_short(r.symbol) for r in third.context.references}
    assert shown & {"retry_with_backoff", "parse_retry_after"}

    # chunks given once come back as references, never as repeated snippets
    turns = [first, second, third]
    given_ids = [i for t in turns for i in t.context.ids]
    assert len(given_ids) == len(set(given_ids))
    references = [r for t in turns[1:] for r in t.context.references]
    assert references
    earlier = {i for t in turns for i in t.context.ids}
    assert all(r.id in earlier for r in references)
    assert "Already in context above" in (second.render() + third.render())
    assert set(session.given) == set(given_ids)
    for cid, cite in session.given.items():
        assert isinstance(cite, Citation) and cid in given_ids


def test_citations_resolve_to_the_repository_lines(codeqa_retriever, codeqa_index) -> None:
    session = CodeQASession(codeqa_retriever, budget_tokens=2000)
    turn = session.ask("how is a password checked against the stored hash?")
    assert turn.context.snippets
    for snippet in turn.context.snippets:
        if not snippet.verbatim:
            continue
        cite = snippet.citation
        lines = (codeqa_index.root / cite.path).read_text().split("\n")
        assert snippet.text == "\n".join(lines[cite.start_line - 1 : cite.end_line])
        assert cite.commit == codeqa_index.commit
        assert snippet.freshness is not None and snippet.freshness.changed is False


def test_budget_and_bad_input(codeqa_retriever: CodeRetriever) -> None:
    session = CodeQASession(codeqa_retriever, budget_tokens=120, neighbours=0)
    turn = session.ask("where is the configuration loaded and merged with defaults?")
    assert 0 < estimate_tokens(turn.render()) <= 120
    assert turn.context.dropped  # the rest did not fit, and says so
    with pytest.raises(ValueError, match="empty query"):
        session.ask("   ")
    assert len(session.turns) == 1  # the bad question was not recorded
    session.reset()
    assert session.turns == [] and session.given == {}


def test_rewrite_hook_replaces_the_query(codeqa_retriever: CodeRetriever) -> None:
    seen = []

    def rewrite(turns):
        seen.append([t.text for t in turns])
        return "least recently used cache eviction"

    session = CodeQASession(codeqa_retriever, rewrite=rewrite, neighbours=0)
    session.add_answer("(ignored opening remark)")
    turn = session.ask("hmm?")
    assert seen == [["(ignored opening remark)", "hmm?"]]
    assert "evict" in _symbols(turn)


def test_stale_files_are_flagged(make_repo, minilm_encoder, tmp_path) -> None:
    from c2rag.git import GitRepo
    from c2rag.index import CodeIndex
    from c2rag.store import IndexStore, StoreLocation

    repo = make_repo(
        files={
            "calc.py": 'def add_numbers(a, b):\n    """Add two numbers."""\n    return a + b\n',
            "text.py": 'def shout(s):\n    """Upper-case a string."""\n    return s.upper()\n',
        }
    )
    CodeIndex(repo.root, encoder=minilm_encoder, store_dir=tmp_path / "s").update()
    repo.write("calc.py", "def add_numbers(a, b):\n    return b + a\n")
    repo.commit("edit calc")
    store = IndexStore.open(StoreLocation.for_repo(repo.root, store_dir=tmp_path / "s"))
    with GitRepo(repo.root) as git, CodeRetriever(store, minilm_encoder, git) as retriever:
        turn = CodeQASession(retriever, neighbours=0).ask("add two numbers; upper-case a string")
        fresh = {s.path: s.freshness.stale for s in turn.context.snippets if s.freshness}
        assert fresh == {"calc.py": True, "text.py": False}
        assert "STALE: file changed between" in turn.render()


def test_many_members_of_a_class_come_as_its_outline(codeqa_retriever: CodeRetriever) -> None:
    session = CodeQASession(codeqa_retriever, budget_tokens=3000, k=6, neighbours=0)
    turn = session.ask("LRUCache.get LRUCache.put LRUCache.evict")
    # (another class's one-chunk skeleton may be a hit of its own, shown as its outline)
    outlines = [
        s
        for s in turn.context.snippets
        if s.kind == "class" and s.symbols == ("cache.lru.LRUCache",)
    ]
    assert len(outlines) == 1
    assert "bodies elided" in turn.render()
    assert {d.reason for d in turn.context.dropped} >= {"in_skeleton"}
    cache_snippets = [s for s in turn.context.snippets if s.path == "src/cache/lru.py"]
    inside = [
        s
        for s in cache_snippets
        if s.kind == "code" and s.citation.end_line >= outlines[0].citation.start_line
    ]
    # only the best hit (the answer) stays verbatim beside the outline
    assert [list(s.ids) for s in inside] in ([], [[turn.hits[0].id]])


def test_follow_ups_refer_back_only_when_they_point_back(codeqa_retriever) -> None:
    session = CodeQASession(codeqa_retriever, budget_tokens=2000, k=5)
    session.ask("what does LRUCache.evict do?")
    # a name shown earlier resolves to the symbol shown, not to every definition so named
    named = session.ask("who calls evict?")
    assert named.follow_up and _short(named.focus[0]) == "evict"
    assert [h.chunk.parent.rsplit(".", 1)[-1] for h in named.hits[:1]] == ["LRUCache"]
    # a fresh question that points at nothing earlier is a plain search
    fresh = session.ask("where is the configuration file loaded from disk?")
    assert not fresh.follow_up and fresh.focus == ()
    stateless = codeqa_retriever.search(session.turns, k=5)
    assert fresh.hits[0].id == stateless[0].id
