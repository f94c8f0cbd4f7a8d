"""Chunks as flat metadata for framework documents, and paths from framework metadata.

LangChain documents and LlamaIndex nodes carry metadata dicts that vector stores require to be
flat scalars; :func:`chunk_metadata` gives one per chunk. :func:`source_path` finds the file a
document came from under the keys loaders use, made relative to a repository root.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath

from c2rag.errors import ChunkingError
from c2rag.types import Chunk

__all__ = ["DEFAULT_PATH_KEYS", "chunk_metadata", "source_path"]

DEFAULT_PATH_KEYS = ("file_path", "source", "path", "file_name")
"""Metadata keys that name a document's file: LlamaIndex readers, LangChain loaders, others."""


def chunk_metadata(chunk: Chunk) -> dict[str, str | int]:
    """Every field of ``chunk`` except its text, as flat scalars (``flags`` comma-joined)."""
    return {
        "path": chunk.path,
        "language": chunk.language,
        "kind": chunk.kind,
        "name": chunk.name,
        "signature": chunk.signature,
        "docstring": chunk.docstring,
        "parent": chunk.parent,
        "start_line": chunk.start_line,
        "end_line": chunk.end_line,
        "start_byte": chunk.start_byte,
        "end_byte": chunk.end_byte,
        "part": chunk.part,
        "parts": chunk.parts,
        "content_hash": chunk.content_hash,
        "flags": ",".join(chunk.flags),
    }


def source_path(
    metadata: Mapping[str, object],
    *,
    keys: Sequence[str] = DEFAULT_PATH_KEYS,
    root: str | os.PathLike[str] | None = None,
) -> str:
    """The POSIX path of a document's file, relative to ``root`` when it lies under it.

    Raises:
        ChunkingError: When none of ``keys`` holds a path (the chunker needs the file name
            to know the language).
    """
    value = next((metadata[k] for k in keys if isinstance(metadata.get(k), str | PurePath)), None)
    if value is None or not str(value):
        msg = (
            f"document metadata has no file path under any of {list(keys)} "
            f"(found keys {sorted(metadata)}); set metadata['source'] to the file's path"
        )
        raise ChunkingError(msg)
    path = Path(str(value))
    if root is not None:
        with contextlib.suppress(ValueError):  # outside the root: keep the path as given
            path = path.resolve().relative_to(Path(root).resolve())
    return path.as_posix()
