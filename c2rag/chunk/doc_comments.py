"""Doc comments of definitions in any parsed language, removed from a file.

``c2rag eval`` and the benchmarks turn each documented function into a query (its comment's
first sentence) and index the code without the comment, so the query is not copied in the
answer. Python docstrings are stripped with ``ast`` (``c2rag.retrieve.evaluate``); this module
does every other language the chunker parses: JSDoc, Javadoc, Go and Rust ``//`` / ``///``
comments, Doxygen, C block comments.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from c2rag.chunk.chunker import Chunker
from c2rag.chunk.languages import SPECS, detect_language

__all__ = ["strip_doc_comments"]

# JSDoc, Javadoc and PHPDoc end the description at the first block tag ("@param x")
_BLOCK_TAG = re.compile(r"^\s*@\w+", re.MULTILINE)
# Languages whose comments start with "#" (Rust's "#[attribute]" is code, and C's "#define")
_HASH_COMMENT_LANGUAGES = frozenset({"ruby", "bash", "perl", "r", "elixir", "julia"})


def strip_doc_comments(
    path: str,
    source: str,
    chunker: Chunker | None = None,
    *,
    select: Callable[[str, str], bool] | None = None,
) -> tuple[str, dict[str, tuple[str, int, int]]]:
    """Remove the doc comments of a file's functions and methods.

    A comment's lines are blanked, not deleted, so every line keeps its number. Files in a
    language without a grammar, and Python (whose docstrings are not comments), come back
    unchanged with nothing found.

    Args:
        path: Repository-relative path (for the language).
        source: The file's text.
        chunker: Finds the definitions and their comments; one that never splits by default.
        select: ``(qualified name, description) → bool``: only the comments it selects are
            removed and returned (every one when ``None``).

    Returns:
        The stripped source, and per qualified name the comment's description (the text
        before its first block tag) and the definition's line range without the comment.
        Definitions whose comment shares a line with code are left alone.
    """
    language = detect_language(path, source[:16384].encode("utf-8", "replace"))
    if language not in SPECS or language == "python":
        return source, {}
    # One chunk per definition: no statement-boundary parts to stitch back together.
    found = (chunker or Chunker(max_tokens=1 << 20)).chunk(path, source.encode("utf-8"))
    lines = source.split("\n")
    blanked: set[int] = set()
    described: dict[str, tuple[str, int, int]] = {}
    for chunk in found.chunks:
        if chunk.kind not in ("function", "method") or not chunk.docstring:
            continue
        comment = _comment_lines(lines, chunk.start_line - 1, found.language)
        if not comment or comment[-1] + 1 >= chunk.end_line or chunk.name in described:
            continue  # no comment of its own above it, or nothing but comment (a stub)
        description = _BLOCK_TAG.split(chunk.docstring, maxsplit=1)[0].strip()
        if select is not None and not select(chunk.name, description):
            continue
        blanked.update(comment)
        start = comment[-1] + 1  # 0-based: the line after the comment, past blank lines
        while not lines[start].strip():
            start += 1
        described[chunk.name] = (description, start + 1, chunk.end_line)
    text = "\n".join("" if i in blanked else line for i, line in enumerate(lines))
    return text, described


def _comment_lines(lines: Sequence[str], first: int, language: str) -> list[int]:
    """0-based indexes of the comment (and blank) lines a definition starting at ``first``
    opens with, ending at its first line of code; empty when it opens with code."""
    hash_comments = language in _HASH_COMMENT_LANGUAGES
    found: list[int] = []
    in_block = False
    for i in range(first, len(lines)):
        text = lines[i].strip()
        if in_block:
            in_block = "*/" not in text
        elif text.startswith("/*"):
            in_block = "*/" not in text[2:]
        elif not (
            not text
            or text.startswith(("//", "*"))
            or (hash_comments and text.startswith("#") and not text.startswith("#["))
        ):
            break
        found.append(i)
    while found and not lines[found[-1]].strip():
        found.pop()  # blank lines between the comment and the code stay
    return found
