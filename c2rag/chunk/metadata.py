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
from c2rag.types import chunk_metadata

__all__ = ["DEFAULT_PATH_KEYS", "chunk_metadata", "source_path"]

DEFAULT_PATH_KEYS = ("file_path", "source", "path", "file_name")
"""Metadata keys that name a document's file: LlamaIndex readers, LangChain loaders, others."""


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
