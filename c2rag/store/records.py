"""Chunks ↔ Chroma records: deterministic ids and flat scalar metadata.

Identity of a record
--------------------
A record is *chunk number ``ordinal`` of the file content ``blob_sha`` at ``path``*; its id is
a hash of exactly those three values (:func:`chunk_id`). Consequences, chosen on purpose:

- The same file content at the same path has the same ids on every branch, machine and rerun,
  so branch membership is a flag on one record (``"branch:<name>": True``), never a copy, and
  a crashed run that is repeated writes the same ids again (upserts are idempotent).
- All metadata of a record except its branch flags and ``commit`` is a pure function of
  (path, blob, chunker settings), so two branches can never disagree about a record's lines.
- Editing a file gives all of its chunks new ids; renaming or moving a file does too. Neither
  re-embeds unchanged text: vectors are looked up by content hash (see ``store.cache``).
- ``commit`` is the indexed commit the record was first written from. Its tree holds
  ``blob_sha`` at ``path``, so ``path:start-end@commit`` is always a valid citation, even when
  later updates only re-tag the record for newer commits or other branches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from c2rag.types import Chunk, chunk_from_metadata, chunk_metadata

__all__ = [
    "BRANCH_PREFIX",
    "Record",
    "branch_key",
    "branches_of",
    "chunk_id",
    "chunk_to_record",
    "record_to_chunk",
]

BRANCH_PREFIX = "branch:"

Record = tuple[str, str, dict[str, Any]]
"""``(id, document, metadata)`` as Chroma stores them."""


# Chunk fields copied verbatim into metadata (all str or int).
def chunk_id(path: str, blob_sha: str, ordinal: int) -> str:
    """Deterministic record id of chunk ``ordinal`` (0-based) of blob ``blob_sha`` at ``path``."""
    key = f"{path}\0{blob_sha}\0{ordinal}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(key).hexdigest()[:32]


def branch_key(branch: str) -> str:
    """Metadata key that marks a record as present on ``branch``."""
    return BRANCH_PREFIX + branch


def branches_of(metadata: Mapping[str, Any]) -> set[str]:
    """Branch names whose flag is set in a record's metadata."""
    return {
        k[len(BRANCH_PREFIX) :] for k, v in metadata.items() if k.startswith(BRANCH_PREFIX) and v
    }


def chunk_to_record(
    chunk: Chunk,
    *,
    blob_sha: str,
    commit: str,
    ordinal: int,
    file_chunks: int,
    branches: Iterable[str] = (),
    source: str = "commit",
) -> Record:
    """Build the Chroma record of one chunk.

    Args:
        chunk: The chunk; its text becomes the document.
        blob_sha: Git blob id of the file content the chunk was cut from.
        commit: Commit the record is written from (its tree holds ``blob_sha`` at the path).
        ordinal: Position of the chunk among its file's chunks (0-based).
        file_chunks: How many chunks the file has; lets a reader tell a complete file from
            one whose write was interrupted.
        branches: Branch names to flag.
        source: ``"commit"`` or ``"worktree"`` (an uncommitted overlay file).

    Returns:
        ``(id, document, metadata)`` with only flat scalar metadata values.
    """
    metadata: dict[str, Any] = chunk_metadata(chunk)
    metadata.update(
        blob_sha=blob_sha,
        commit=commit,
        ordinal=ordinal,
        file_chunks=file_chunks,
        source=source,
    )
    for branch in branches:
        metadata[branch_key(branch)] = True
    return chunk_id(chunk.path, blob_sha, ordinal), chunk.text, metadata


def record_to_chunk(document: str, metadata: Mapping[str, Any]) -> Chunk:
    """Rebuild the :class:`~c2rag.types.Chunk` stored as ``document`` + ``metadata``."""
    return chunk_from_metadata(document, metadata)
