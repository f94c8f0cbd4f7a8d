"""Line windows with a small overlap, for files that are not parsed into symbols.

Used for languages without a grammar, prose and config files, and files whose parse failed.
Windows hold up to ``max_lines`` lines and ``max_tokens`` tokens; consecutive windows share
``overlap`` lines so that a passage cut at a window edge is still whole in one of them.
"""

from __future__ import annotations

from c2rag.chunk.split import Part, Splitter

__all__ = ["line_windows"]


def line_windows(splitter: Splitter, *, max_lines: int = 60, overlap: int = 5) -> list[Part]:
    """Windows over the lines of ``splitter.source``; blank windows are left out.

    Args:
        splitter: Splitter of the file (its source, token counter and caps are used).
        max_lines: Most lines in one window.
        overlap: Lines shared by consecutive windows (less when a window is shorter).

    Returns:
        Parts in file order. A single line over the hard cap is cut into several parts.
    """
    source = splitter.source
    n = source.n_lines
    tokens = [
        splitter.count(source.text(source.line_start(i), source.line_end(i)))
        for i in range(1, n + 1)
    ]
    parts: list[Part] = []
    first = 1
    while first <= n:
        last, size = first, tokens[first - 1]
        while (
            last < n and last - first + 1 < max_lines and size + tokens[last] <= splitter.max_tokens
        ):
            size += tokens[last]
            last += 1
        start, end = source.line_start(first), source.line_end(last)
        if size > splitter.hard_max_tokens:  # one overlong line: cut it between bytes
            parts += splitter.layout(start, end, [])
        elif not source.is_blank(start, end):
            stop = start + len(source.data[start:end].rstrip())
            parts.append(Part(start, stop, source.text(start, stop)))
        if last == n:
            break
        # Overlap only as far as the next line still fits beside it: before a line too big to
        # share a window, a full overlap gave a window of this one's tail and nothing new
        # (lines 3354-3359, then 3355-3359 again, in a generated C++ file).
        first = max(first + 1, last + 1 - overlap)
        while first <= last and sum(tokens[first - 1 : last + 1]) > splitter.max_tokens:
            first += 1
    return parts
