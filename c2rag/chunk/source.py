"""A file's bytes with a line index: byte offsets ↔ 1-based lines, and text slices.

Everything in the chunker works on the original bytes (tree-sitter reports byte offsets), so
offsets stay exact against the file even when it is not valid UTF-8; text is decoded per slice
with replacement characters.
"""

from __future__ import annotations

import bisect
import re

__all__ = ["Source"]

_NEWLINE = re.compile(b"\n")
_BOM = b"\xef\xbb\xbf"


class Source:
    """Bytes of one file and where each of its lines starts.

    Args:
        data: The file's bytes.
    """

    __slots__ = ("_starts", "data", "n_lines")

    def __init__(self, data: bytes) -> None:
        self.data = data
        starts = [0]
        starts.extend(m.end() for m in _NEWLINE.finditer(data))
        if len(starts) > 1 and starts[-1] == len(data):
            starts.pop()  # a final newline ends the last line; it does not start another
        self._starts = starts
        self.n_lines = len(starts) if data else 0

    def line_of(self, offset: int) -> int:
        """1-based line holding the byte at ``offset``."""
        return bisect.bisect_right(self._starts, offset)

    def lines_of(self, start: int, end: int) -> tuple[int, int]:
        """First and last line (1-based, inclusive) of the bytes ``[start, end)``."""
        return self.line_of(start), self.line_of(max(start, end - 1))

    def line_start(self, line: int) -> int:
        """Byte offset where 1-based ``line`` starts."""
        return self._starts[line - 1]

    def line_end(self, line: int) -> int:
        """Byte offset just past 1-based ``line``, its newline included."""
        return self._starts[line] if line < len(self._starts) else len(self.data)

    def text(self, start: int, end: int) -> str:
        """The bytes ``[start, end)`` decoded as UTF-8, invalid bytes replaced."""
        return self.data[start:end].decode("utf-8", "replace")

    def is_blank(self, start: int, end: int) -> bool:
        """Whether ``[start, end)`` holds only whitespace (a UTF-8 byte-order mark counts)."""
        return not self.data[start:end].replace(_BOM, b"").strip()

    def own_line_start(self, offset: int) -> int:
        """``offset`` moved back to its line start when only whitespace precedes it there."""
        line_start = self._starts[self.line_of(offset) - 1]
        return line_start if self.is_blank(line_start, offset) else offset
