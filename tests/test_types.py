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


def test_flat_metadata_round_trips_every_field() -> None:
    from c2rag.types import chunk_from_metadata, chunk_metadata

    chunk = Chunk(
        "pkg/m.py", "python", "method", "pkg.m.C.f", 3, 9, "def f(self):\n    pass\n",
        signature="def f(self):", docstring="Do it.", start_byte=10, end_byte=40,
        parent="pkg.m.C", part=2, parts=3, flags=("non_utf8",),
    )  # fmt: skip
    flat = chunk_metadata(chunk)
    assert all(isinstance(v, (str, int)) for v in flat.values())
    again = chunk_from_metadata(chunk.text, {**flat, "extra": 1})
    assert again == chunk
    assert again.content_hash == chunk.content_hash
