import pytest

from c2rag.types import Chunk, Citation, text_hash


def test_chunk_hash_follows_text() -> None:
    a = Chunk("a.py", "python", "function", "f", 1, 2, "def f():\n    pass\n")
    b = Chunk("b.py", "python", "function", "g", 10, 11, "def f():\n    pass\n")
    assert a.content_hash == b.content_hash == text_hash(a.text)


def test_chunk_rejects_bad_lines() -> None:
    with pytest.raises(ValueError, match=r"a\.py: invalid line range 3-2"):
        Chunk("a.py", "python", "function", "f", 3, 2, "x")


def test_citation_round_trip() -> None:
    c = Citation("src/io/upload.py", 10, 42, "0123456789abcdef0123")
    assert str(c) == "src/io/upload.py:10-42@0123456789ab"
    assert Citation.parse(str(c)) == Citation("src/io/upload.py", 10, 42, "0123456789ab")
    with pytest.raises(ValueError, match="not a citation"):
        Citation.parse("nope")
