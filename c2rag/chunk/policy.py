"""What the chunker puts into a chunk's text, as one explicit, typed choice.

Every knob trades tokens embedded (index time, on CPU most of it) against what the embedding
and the lexical channel can see. The defaults were chosen by ``benchmarks/chunk_policy.py``
(docs/benchmarks.md, "Chunk-text policy"); ``docs/concepts/chunks.md`` explains each one.
Citations never change with the policy: a chunk's lines and bytes always cover exactly the
code it stands for, whatever its text elides.
"""

from __future__ import annotations

from dataclasses import dataclass

from c2rag.errors import ChunkingError

__all__ = ["ChunkPolicy"]


@dataclass(frozen=True, slots=True)
class ChunkPolicy:
    """Choices about chunk text; pass one to :class:`~c2rag.chunk.Chunker` (``policy=``).

    Attributes:
        skeleton_max_tokens: A class skeleton (signature, docstring, fields, method
            signatures) is **one** chunk of at most this many tokens: members past the cap are
            listed by name only. ``None`` splits a long skeleton into parts like a function.
        data_max_tokens: A module-level statement that is mostly literals (a lookup table, a
            long constant list) and longer than this is shown as its first line and an
            elision mark in the module chunk; its lines stay inside the chunk's range, so it
            is still cited and found by name. ``None`` keeps data verbatim.
        repeat_header: Every part of a split function after the first starts with the
            function's signature line(s).
        min_part_tokens: A part of a split definition with fewer tokens than this (or than a
            quarter of the chunker's ``max_tokens``) is merged into a neighbour, which may then
            pass ``max_tokens`` by a quarter but never the hard cap: no part is a lone
            ``return``. ``0`` turns merging off.
        min_part_lines: Likewise for a part with fewer non-blank lines than this that is also
            under a quarter of ``max_tokens``.
    """

    skeleton_max_tokens: int | None = 64
    data_max_tokens: int | None = 48
    repeat_header: bool = True
    min_part_tokens: int = 48
    min_part_lines: int = 4

    def __post_init__(self) -> None:
        for name in ("skeleton_max_tokens", "data_max_tokens"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 16):
                msg = f"ChunkPolicy {name}={value!r} is invalid: expected None or an int >= 16"
                raise ChunkingError(msg)
        for name in ("min_part_tokens", "min_part_lines"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                msg = f"ChunkPolicy {name}={value!r} is invalid: expected an int >= 0"
                raise ChunkingError(msg)

    @classmethod
    def verbatim(cls) -> ChunkPolicy:
        """The policy before it was explicit: full skeletons split into parts, data kept,
        headers repeated, no tail merging. For comparisons and for exact reproduction."""
        return cls(
            skeleton_max_tokens=None,
            data_max_tokens=None,
            repeat_header=True,
            min_part_tokens=0,
            min_part_lines=0,
        )

    def describe(self) -> str:
        """Compact form for :attr:`Chunker.version` (a change rebuilds an index)."""
        return (
            f"skel={self.skeleton_max_tokens};data={self.data_max_tokens};"
            f"hdr={int(self.repeat_header)};tail={self.min_part_tokens}/{self.min_part_lines}"
        )
