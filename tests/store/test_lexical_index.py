"""LexicalIndex: BM25 over code tokens, persistence, incremental updates, symbol lookups."""

from __future__ import annotations

import pytest

from c2rag.errors import IndexError_
from c2rag.store.lexical import LexicalIndex, code_tokens
from c2rag.store.tokens import identifier_mentions
from c2rag.types import Chunk


def _chunk(path: str, name: str, text: str, *, kind: str = "function", line: int = 1) -> Chunk:
    lines = text.count("\n") + 1
    return Chunk(path, "python", kind, name, line, line + lines - 1, text)  # type: ignore[arg-type]


UPLOAD = _chunk(
    "src/io/upload.py",
    "io.upload.retry_upload",
    "def retry_upload(session, blob, attempts=3):\n"
    "    for attempt in range(attempts):\n"
    "        response = session.put(blob)\n"
    "        if response.status == 429:\n"
    "            backoff(attempt)\n"
    "    return response",
)
BACKOFF = _chunk(
    "src/io/retry.py",
    "io.retry.RetryPolicy.backoff",
    "def backoff(self, attempt):\n    return min(self.cap, self.base * 2 ** attempt)",
    kind="method",
)
USER = _chunk(
    "src/users/db.ts",
    "users.db.getUserById",
    "export async function getUserById(id: string) {\n  return db.users.find(id);\n}",
)


def test_code_tokens_splits_identifiers_and_keeps_them_whole() -> None:
    assert code_tokens("getUserById") == ["getuserbyid", "get", "user", "by", "id"]
    assert code_tokens("retry_upload") == ["retry_upload", "retry", "upload"]
    assert code_tokens("HTTPServer") == ["httpserver", "http", "server"]
    assert code_tokens("src/io/upload.py") == ["src", "io", "upload", "py"]
    assert code_tokens("kebab-case") == ["kebab", "case"]
    # stop words and single letters go, numbers stay; inside identifiers nothing is dropped
    assert code_tokens("does it handle 429 for x") == ["handle", "429"]
    assert code_tokens("is_valid") == ["is_valid", "is", "valid"]


def test_identifier_mentions_marks_code_shaped_names_strong() -> None:
    found = dict(
        identifier_mentions(
            "Does RetryPolicy.backoff in src/io/retry.py call get_user or `fetch`, or upload?"
        )
    )
    assert found["RetryPolicy.backoff"] is True
    assert found["src/io/retry.py"] is True
    assert found["get_user"] is True
    assert found["fetch"] is True
    assert found["upload"] is False
    assert "or" not in found


@pytest.fixture
def lex(tmp_path):
    index = LexicalIndex.open(tmp_path / "lex")
    index.upsert([("u", UPLOAD), ("b", BACKOFF), ("g", USER)])
    return index


def test_bm25_ranks_by_identifier_and_words(lex: LexicalIndex) -> None:
    assert lex.search("where do we retry uploads", k=3)[0][0] == "u"
    assert lex.search("getUserById", k=3)[0][0] == "g"
    assert lex.search("user by id", k=3)[0][0] == "g"
    assert lex.search("backoff", k=1)[0][0] == "b"  # the name field outweighs a call in a body
    assert lex.search("nothing matches this", k=3) == []
    assert lex.search("backoff", k=0) == []


def test_allowed_predicate_filters(lex: LexicalIndex) -> None:
    hits = lex.search("backoff", k=3, allowed=lambda i: i != "b")
    assert [i for i, _ in hits] == ["u"]


def test_save_load_roundtrip_and_generation(lex: LexicalIndex, tmp_path) -> None:
    lex.set_generation("gen-7")
    lex.save()
    assert [p.name for p in (tmp_path / "lex").iterdir()] == ["lexical.npz"]  # no temp left
    again = LexicalIndex.open(tmp_path / "lex")
    assert again.generation == "gen-7"
    assert len(again) == 3
    assert again.search("retry upload", k=3) == lex.search("retry upload", k=3)
    assert again.symbols.get("g") == lex.symbols.get("g")


def test_incremental_upsert_and_delete(lex: LexicalIndex, tmp_path) -> None:
    lex.save()
    lex = LexicalIndex.open(tmp_path / "lex")
    renamed = _chunk("src/io/upload.py", "io.upload.send_blob", "def send_blob(blob):\n    pass")
    lex.upsert([("u", renamed)])
    lex.delete(["g", "missing-id"])
    assert "g" not in lex and len(lex) == 2
    assert lex.search("getUserById", k=3) == []
    assert lex.search(["retry_upload"], k=3) == []
    assert lex.search("send_blob", k=3)[0][0] == "u"
    lex.save()
    again = LexicalIndex.open(tmp_path / "lex")
    assert sorted(again.ids()) == ["b", "u"]
    assert again.search("send blob", k=3)[0][0] == "u"
    assert again.containing("backoff") == ["b"]  # retry_upload no longer calls it


def test_containing_finds_callers(lex: LexicalIndex) -> None:
    assert sorted(lex.containing("backoff")) == ["b", "u"]


def test_symbol_matching(lex: LexicalIndex) -> None:
    sym = lex.symbols
    assert sym.match("RetryPolicy.backoff") == [("b", 0.9)]
    assert sym.match("io.retry.RetryPolicy.backoff") == [("b", 1.0)]
    assert sym.match("getUserById") == [("g", 0.8)]
    assert sym.match("getUser") == [("g", 0.5)]
    assert sym.match("getUser", prefix=False) == []
    assert sym.match("upload.py") == [("u", 0.9)]
    assert sym.match("src/io/upload.py") == [("u", 1.0)]
    assert sym.defining("BACKOFF") == ["b"]
    assert sym.in_path("src/io/retry.py") == ["b"]
    # qualifiers found in order in the name or the path, with parts between, when nothing
    # matches better: `io.backoff` (re-exported) and a trait's `Retry::backoff` (in retry.py)
    assert sym.match("io.backoff") == [("b", 0.85)]
    assert sym.match("Retry::backoff") == [("b", 0.85)]
    assert sym.match("users.backoff") == []
    assert sym.match("RetryPolicy.io.backoff") == []  # out of order


def test_a_class_name_means_the_class_before_its_constructor(tmp_path) -> None:
    index = LexicalIndex.open(tmp_path / "lex")
    cls = _chunk("Map.java", "util.Map", "class Map {\n  Map() {}\n}", kind="class")
    ctor = _chunk("Map.java", "util.Map.Map", "Map() {}", kind="method", line=2)
    index.upsert([("c", cls), ("k", ctor)])
    assert index.symbols.match("Map") == [("c", 0.8), ("k", 0.6)]
    assert index.symbols.match("Map.Map") == [("k", 0.9)]


def test_bad_options_and_corrupt_file(tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown field_weights"):
        LexicalIndex(tmp_path, field_weights={"body": 1.0})
    (tmp_path / "lexical.npz").write_bytes(b"not a zip")
    with pytest.raises(IndexError_, match="c2rag index"):
        LexicalIndex.open(tmp_path)
