from __future__ import annotations

from c2rag.store.records import (
    branch_key,
    branches_of,
    chunk_id,
    chunk_to_record,
    record_to_chunk,
)
from c2rag.types import Chunk

CHUNK = Chunk(
    path="pkg/mod.py",
    language="python",
    kind="method",
    name="pkg.mod.Thing.run",
    start_line=10,
    end_line=14,
    text="def run(self):\n    return 1\n",
    signature="def run(self)",
    docstring="Run it.",
    start_byte=120,
    end_byte=160,
    parent="pkg.mod.Thing",
    part=2,
    parts=3,
    flags=("non_utf8",),
)


def test_round_trip_keeps_every_field() -> None:
    rid, document, metadata = chunk_to_record(
        CHUNK, blob_sha="b" * 40, commit="c" * 40, ordinal=3, file_chunks=5, branches=["main"]
    )
    assert rid == chunk_id("pkg/mod.py", "b" * 40, 3)
    assert document == CHUNK.text
    assert all(isinstance(v, (str, int, float, bool)) for v in metadata.values())
    back = record_to_chunk(document, metadata)
    assert back == CHUNK
    assert back.content_hash == CHUNK.content_hash
    assert metadata["blob_sha"] == "b" * 40
    assert metadata["commit"] == "c" * 40
    assert metadata[branch_key("main")] is True


def test_ids_depend_on_path_blob_and_ordinal_only() -> None:
    base = chunk_id("a.py", "1" * 40, 0)
    assert chunk_id("a.py", "1" * 40, 0) == base
    assert len({base, chunk_id("b.py", "1" * 40, 0), chunk_id("a.py", "2" * 40, 0)}) == 3
    assert chunk_id("a.py", "1" * 40, 1) != base
    # the commit and branches do not change the id
    first = chunk_to_record(CHUNK, blob_sha="1" * 40, commit="x", ordinal=0, file_chunks=1)
    second = chunk_to_record(
        CHUNK, blob_sha="1" * 40, commit="y", ordinal=0, file_chunks=1, branches=["dev"]
    )
    assert first[0] == second[0]


def test_branches_of_reads_only_set_flags() -> None:
    metadata = {"path": "x", "branch:main": True, "branch:feat/a-1": True, "branch:old": False}
    assert branches_of(metadata) == {"main", "feat/a-1"}
