"""Records that cross module boundaries: git → chunks → embeddings → store → retrieval → context.

They are plain frozen dataclasses so that every stage can be tested without the others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, cast, runtime_checkable

import numpy as np

__all__ = [
    "Chunk",
    "ChunkKind",
    "Citation",
    "Embedder",
    "Hit",
    "chunk_from_metadata",
    "chunk_metadata",
    "text_hash",
]

ChunkKind = Literal["function", "method", "class", "module", "window"]


def text_hash(text: str) -> str:
    """Content hash used for chunks and the embedding cache (sha256 hex of UTF-8 text)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class Chunk:
    """One retrievable unit of a source file: a function, a method, a class skeleton, the
    module-level remainder, or a window of lines when a file cannot be parsed.

    Lines are 1-based and inclusive; bytes are 0-based, end-exclusive offsets into the file.
    ``text`` is what gets embedded and shown; for a class skeleton or a split part it is not
    always a verbatim slice of the file (a part carries its function's signature as header).
    """

    path: str
    """Repository-relative POSIX path."""
    language: str
    """Language name (``python``, ``typescript``, …) or ``text`` for fallback windows."""
    kind: ChunkKind
    name: str
    """Qualified name in the language's style (``pkg.mod.Class.method``); for ``module`` and
    ``window`` chunks, the module or path name."""
    start_line: int
    end_line: int
    text: str
    signature: str = ""
    docstring: str = ""
    start_byte: int = 0
    end_byte: int = 0
    parent: str = ""
    """Qualified name of the enclosing class or symbol, empty at top level."""
    part: int = 1
    parts: int = 1
    """``part``/``parts`` number the pieces of an oversized symbol split at statement boundaries."""
    flags: tuple[str, ...] = ()
    """Notes about the source, e.g. ``("non_utf8",)`` when the file was decoded with replacement."""
    content_hash: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.start_line < 1 or self.end_line < self.start_line:
            msg = f"{self.path}: invalid line range {self.start_line}-{self.end_line}"
            raise ValueError(msg)
        if not self.content_hash:
            object.__setattr__(self, "content_hash", text_hash(self.text))


def chunk_metadata(chunk: Chunk) -> dict[str, str | int]:
    """Every field of ``chunk`` except its text, as flat scalars (``flags`` comma-joined): the
    form vector stores, LangChain documents and LlamaIndex nodes carry."""
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


def chunk_from_metadata(text: str, metadata: Mapping[str, Any]) -> Chunk:
    """The inverse of :func:`chunk_metadata`; extra keys are ignored."""
    flags = str(metadata.get("flags") or "")
    return Chunk(
        path=str(metadata["path"]),
        language=str(metadata["language"]),
        kind=cast(ChunkKind, metadata["kind"]),
        name=str(metadata["name"]),
        start_line=int(metadata["start_line"]),
        end_line=int(metadata["end_line"]),
        text=text,
        signature=str(metadata.get("signature", "")),
        docstring=str(metadata.get("docstring", "")),
        start_byte=int(metadata.get("start_byte", 0)),
        end_byte=int(metadata.get("end_byte", 0)),
        parent=str(metadata.get("parent", "")),
        part=int(metadata.get("part", 1)),
        parts=int(metadata.get("parts", 1)),
        flags=tuple(flags.split(",")) if flags else (),
        content_hash=str(metadata.get("content_hash", "")),
    )


@dataclass(frozen=True, slots=True)
class Citation:
    """A stable reference to lines of a file at a commit: ``path:start-end@sha``."""

    path: str
    start_line: int
    end_line: int
    commit: str

    def __str__(self) -> str:
        return f"{self.path}:{self.start_line}-{self.end_line}@{self.commit[:12]}"

    @classmethod
    def parse(cls, text: str) -> Citation:
        """Parse ``path:start-end@sha`` (the inverse of ``str()``)."""
        try:
            location, commit = text.rsplit("@", 1)
            path, lines = location.rsplit(":", 1)
            start, end = lines.split("-", 1)
            return cls(path, int(start), int(end), commit)
        except ValueError as exc:
            msg = f"not a citation (expected 'path:start-end@sha'): {text!r}"
            raise ValueError(msg) from exc


@dataclass(frozen=True, slots=True)
class Hit:
    """A chunk returned by retrieval, with where it came from and how it scored."""

    id: str
    chunk: Chunk
    score: float
    commit: str
    """Commit the chunk was indexed from."""
    blob_sha: str = ""
    channels: dict[str, float] = field(default_factory=dict)
    """Per-channel score (``dense``, ``lexical``, ``symbol``) before fusion."""
    contributions: dict[str, float] = field(default_factory=dict)
    """Each channel's share of the fused :attr:`score` (plus any penalty, negative): why the
    hit ranks where it does."""
    members: tuple[str, ...] = ()
    """Ids of other chunks of the same symbol (e.g. the other parts of a split function), or
    of the same code at another path (a copied file), that ranked and were collapsed into
    this hit."""
    copies: tuple[Citation, ...] = ()
    """Where the same code also is: identical chunks in other files (a file duplicated for a
    second package) that ranked and were collapsed into this hit. An edit may be due there
    too."""

    @property
    def citation(self) -> Citation:
        return Citation(self.chunk.path, self.chunk.start_line, self.chunk.end_line, self.commit)


@runtime_checkable
class Embedder(Protocol):
    """What the indexer and retriever need from an embedding model.

    :class:`c2rag.Encoder` implements it; anything else that does can be plugged in.
    """

    @property
    def fingerprint(self) -> str:
        """Identity of everything that changes a document vector: model id and revision,
        pooling, document prompt, dtype family. Part of every embedding-cache key."""
        ...

    @property
    def dim(self) -> int: ...

    @property
    def max_length(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def encode_documents(
        self, texts: Sequence[str], *, show_progress: bool = False
    ) -> np.ndarray: ...

    def encode_queries(
        self, texts: Sequence[str], *, task: str | None = None, instruction: str | None = None
    ) -> np.ndarray: ...
