"""Invariants every chunked file must satisfy, shared by the chunker tests."""

from __future__ import annotations

import re

from c2rag.chunk import FileChunks

__all__ = ["assert_invariants", "uncovered_lines"]

_WS = re.compile(rb"\s")
_BOM = b"\xef\xbb\xbf"  # a byte-order mark alone is not content


def uncovered_lines(fc: FileChunks, data: bytes) -> list[int]:
    """Non-blank lines of ``data`` that no chunk's line range contains."""
    covered = set()
    for c in fc.chunks:
        covered.update(range(c.start_line, c.end_line + 1))
    lines = data.split(b"\n")
    return [
        i for i, line in enumerate(lines, 1) if line.replace(_BOM, b"").strip() and i not in covered
    ]


def _uncovered_bytes(fc: FileChunks, data: bytes) -> list[int]:
    spans = sorted((c.start_byte, c.end_byte) for c in fc.chunks)
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    missing, position = [], len(_BOM) if data.startswith(_BOM) else 0
    for start, end in [*merged, [len(data), len(data)]]:
        missing += [i for i in range(position, start) if not _WS.match(data[i : i + 1])]
        position = max(position, end)
    return missing


def assert_invariants(fc: FileChunks, data: bytes, *, verbatim: bool = True) -> None:
    """Offsets and lines exact against ``data``; every non-blank byte in some chunk."""
    for c in fc.chunks:
        assert (c.path, c.language) == (fc.path, fc.language)
        assert 0 <= c.start_byte < c.end_byte <= len(data), c
        assert c.start_line == data.count(b"\n", 0, c.start_byte) + 1, c
        assert c.end_line == data.count(b"\n", 0, c.end_byte - 1) + 1, c
        assert 1 <= c.part <= c.parts
        assert data[c.start_byte : c.end_byte].strip(), c  # no blank chunk
        if verbatim and c.kind in {"function", "method", "window"} and c.parts == 1:
            assert c.text == data[c.start_byte : c.end_byte].decode("utf-8", "replace"), c
    if fc.skipped is None:
        assert uncovered_lines(fc, data) == []
        assert _uncovered_bytes(fc, data) == []
