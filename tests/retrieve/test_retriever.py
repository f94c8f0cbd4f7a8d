"""CodeRetriever on a real repository indexed by CodeIndex with MiniLM (real semantics)."""

from __future__ import annotations

import pytest

from c2rag.errors import IndexMismatchError, IndexNotFoundError
from c2rag.retrieve import CodeRetriever, FusionWeights, SearchFilters
from c2rag.retrieve.evaluate import EvalCase, evaluate

SINGLE_TURN = [
    ("how are passwords hashed before they are stored?", "users.accounts.hash_password"),
    ("where do we retry failed uploads?", "storage.upload.retry_with_backoff"),
    ("evict the least recently used cache entry", "cache.lru.LRUCache.evict"),
    ("fetch a user's profile from the browser", "fetchUserProfile"),
]


def _names(hits) -> list[str]:
    return [h.chunk.name for h in hits]


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


@pytest.mark.parametrize(("question", "expected"), SINGLE_TURN)
def test_single_turn_questions_find_the_function(
    codeqa_retriever: CodeRetriever, question: str, expected: str
) -> None:
    hits = codeqa_retriever.search(question, k=3)
    assert _short(expected) in [_short(n) for n in _names(hits)]
    top = hits[0]
    assert top.commit and top.blob_sha
    assert str(top.citation).startswith(f"{top.chunk.path}:{top.chunk.start_line}-")


def test_identifiers_are_found_by_symbol_and_lexical_channels(
    codeqa_retriever: CodeRetriever,
) -> None:
    result = codeqa_retriever.search_detailed("what does LRUCache.put do when full?", k=5)
    assert result.has_identifiers
    assert _short(result.hits[0].chunk.name) == "put"
    assert {"symbol", "lexical", "dense"} <= set(result.hits[0].channels)
    by_path = codeqa_retriever.search("src/config/loader.py merge", k=3)
    assert {h.chunk.path for h in by_path} == {"src/config/loader.py"}


def _recall_cases(retriever: CodeRetriever) -> list[EvalCase]:
    """Docstring first lines → their functions, identifier questions → their definitions."""
    cases = []
    for cid, info in retriever.lexical.symbols:
        if info.kind not in ("function", "method"):
            continue
        chunk = retriever.fetch([cid])[cid].chunk
        if chunk.docstring:
            first = chunk.docstring.strip().splitlines()[0].rstrip(".")
            cases.append(EvalCase(first, info.path, info.start_line, info.end_line, info.name))
        short = info.name.rsplit(".", 1)[-1]
        if not short.startswith("_") and short not in {"get", "put", "main", "__init__"}:
            question = f"where is {short} defined?"
            cases.append(EvalCase(question, info.path, info.start_line, info.end_line, info.name))
    return cases


def test_fused_recall_at_5_is_at_least_every_single_channel(
    codeqa_retriever: CodeRetriever,
) -> None:
    cases = _recall_cases(codeqa_retriever)
    assert len(cases) >= 25
    recall = {}
    for channel in ("dense", "lexical", "symbol"):
        codeqa_retriever.weights = FusionWeights.only(channel)
        recall[channel] = evaluate(lambda q: codeqa_retriever.search(q, k=5), cases, k=5).recall
    codeqa_retriever.weights = FusionWeights()
    fused = evaluate(lambda q: codeqa_retriever.search(q, k=5), cases, k=5).recall
    assert fused >= max(recall.values()), (fused, recall)
    assert fused >= 0.9, (fused, recall)


def test_filters_are_honoured_by_every_channel(codeqa_retriever: CodeRetriever) -> None:
    question = "fetch the user profile by id"
    for weights in ("dense", "lexical", "symbol", None):
        codeqa_retriever.weights = FusionWeights.only(weights) if weights else FusionWeights()
        ts = codeqa_retriever.search(
            question + " fetchUserProfile", k=5, filters={"languages": ["typescript"]}
        )
        assert ts and {h.chunk.language for h in ts} == {"typescript"}
        py = codeqa_retriever.search(
            question + " get_user_by_id", k=5, filters={"paths": ["src/users/**"]}
        )
        assert py and {h.chunk.path for h in py} == {"src/users/accounts.py"}
    codeqa_retriever.weights = FusionWeights()
    methods = codeqa_retriever.search("cache", k=10, filters=SearchFilters(kinds=("method",)))
    assert methods and {h.chunk.kind for h in methods} == {"method"}
    assert codeqa_retriever.search("upload", k=5, filters={"paths": ["nothing/**"]}) == []
    assert codeqa_retriever.search("upload", k=5, filters={"branch": "main"})
    assert codeqa_retriever.search("upload", k=5, filters={"branch": "no-such-branch"}) == []
    with pytest.raises(ValueError, match="unknown filter"):
        codeqa_retriever.search("upload", filters={"folder": "src"})
    with pytest.raises(ValueError, match="valid kinds"):
        codeqa_retriever.search("upload", filters={"kinds": ["lambda"]})


def test_neighbours_are_callees_and_callers(codeqa_retriever: CodeRetriever) -> None:
    top = codeqa_retriever.search("retry_with_backoff", k=1)[0]
    assert _short(top.chunk.name) == "retry_with_backoff"
    around = codeqa_retriever.neighbours(top, limit=4)
    kinds = {_short(h.chunk.name): next(iter(h.channels)) for h in around}
    assert kinds.get("parse_retry_after") == "callee"
    assert kinds.get("upload_file") == "caller"
    with_neighbours = codeqa_retriever.search("retry_with_backoff", k=1, neighbours=2)
    assert len(with_neighbours) == 3 and with_neighbours[0].id == top.id


def test_bad_input(codeqa_retriever: CodeRetriever, codeqa_index, tiny_encoder, tmp_path) -> None:
    for empty in ("", "  \n", []):
        with pytest.raises(ValueError, match="empty query"):
            codeqa_retriever.search(empty)
    with pytest.raises(ValueError, match="k must be at least 1"):
        codeqa_retriever.search("upload", k=0)
    long = "where do we retry uploads " + "please " * 2000
    result = codeqa_retriever.search_detailed(long, k=3)
    assert result.hits and any(
        "longer than the embedding model's window" in n for n in result.notes
    )
    huge = codeqa_retriever.search_detailed("where do we retry uploads " + "x" * 1_000_000, k=3)
    assert huge.hits and any("characters" in n for n in huge.notes)
    empty = codeqa_retriever.search_detailed("upload", filters={"paths": ["nothing/**"]})
    assert empty.hits == [] and "paths=['nothing/**']" in empty.notes[-1]
    with pytest.raises(ValueError, match="languages in this index"):
        codeqa_retriever.search("upload", filters={"languages": ["klingon"]})
    with pytest.raises(IndexMismatchError):
        CodeRetriever(codeqa_retriever.store, tiny_encoder)
    with pytest.raises(IndexNotFoundError, match="c2rag index"):
        CodeRetriever.from_path(codeqa_index.root, store_dir=tmp_path / "empty")


def test_a_long_report_embeds_what_carries_the_most(codeqa_retriever: CodeRetriever) -> None:
    # An issue pasted whole: its title and the line naming code sit around a long log. The
    # dense channel embeds those lines, not the first window's worth of log; BM25 reads it all.
    log = "\n".join(f"2026-12-07 10:00:{i % 60:02d} INFO worker heartbeat ok" for i in range(300))
    report = (
        "Uploads give up after the first 429\n\n"
        f"{log}\n\n"
        "retry_with_backoff returns before parse_retry_after is consulted."
    )
    result = codeqa_retriever.search_detailed(report, k=3)
    embedded = result.query.text
    assert embedded.startswith("Uploads give up after the first 429")
    assert "retry_with_backoff returns before" in embedded
    assert "heartbeat" not in embedded
    assert any("title, exception lines" in n for n in result.notes)
    assert "retry_with_backoff" in {_short(h.chunk.name) for h in result.hits}
    short = codeqa_retriever.search_detailed("where do we retry uploads?", k=3)
    assert short.query.text == "where do we retry uploads?" and not short.notes
    # pasted as a follow-up: the same lines stand in for it in the conversation's embedding
    follow = codeqa_retriever.search_detailed(["where do we upload files?", report], k=3)
    assert "Uploads give up after the first 429" in follow.query.text
    assert "heartbeat" not in follow.query.text
    assert "retry_with_backoff returns before" in follow.query.latest
    assert follow.hits and any("title, exception lines" in n for n in follow.notes)


def test_k_distinct_symbols_with_explained_scores(codeqa_retriever: CodeRetriever) -> None:
    symbols = codeqa_retriever.lexical.symbols
    hits = codeqa_retriever.search("store and fetch things", k=1000)
    keys = [(h.chunk.path, h.chunk.kind, h.chunk.name, h.chunk.parent) for h in hits]
    modules = [h for h in hits if h.chunk.kind == "module"]
    assert len(set(keys)) + len(modules) - len(
        {(h.chunk.path, h.chunk.start_line == 1) for h in modules}
    ) == len(hits)
    assert len(hits) >= min(50, len(symbols) // 2)
    for hit in hits:
        assert hit.score == pytest.approx(sum(hit.contributions.values()))


def test_from_path_opens_the_index(codeqa_index) -> None:
    with CodeRetriever.from_path(
        codeqa_index.root, model=codeqa_index.model_dir, store_dir=codeqa_index.store_dir
    ) as r:
        assert _short(r.search("parse the Retry-After header", k=1)[0].chunk.name) == (
            "parse_retry_after"
        )
