"""Measuring retrieval on real code: the CodeSearchNet construction, and the metrics.

Queries are the first sentence of each function's docstring (Python) or doc comment (every
other language the chunker parses: JSDoc, Javadoc, Go and Rust ``//`` / ``///`` comments,
Doxygen); they are removed from the code that gets indexed (otherwise the query would be
copied in the answer). A query is answered when a retrieved chunk of the right file overlaps
the function's lines. This backs ``c2rag eval`` and ``benchmarks/retrieval_quality.py``.
"""

from __future__ import annotations

import ast
import random
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from c2rag.types import Hit

if TYPE_CHECKING:
    from c2rag.chunk import Chunker

__all__ = [
    "EvalCase",
    "Metrics",
    "docstring_cases",
    "evaluate",
    "naive_rrf_weights",
    "strip_doc_comments",
    "strip_docstrings",
    "write_git_repo",
]

_MIN_QUERY_WORDS = 3


@dataclass(frozen=True)
class EvalCase:
    """A query and the code that answers it."""

    query: str | tuple[str, ...]
    """A question, or a conversation (oldest turn first)."""
    path: str
    start_line: int
    end_line: int
    name: str = ""


@dataclass(frozen=True)
class Metrics:
    """MRR@k and recall@k over a set of cases."""

    mrr: float
    recall: float
    n: int
    k: int
    file_mrr: float = 0.0
    """MRR@k counting any hit in the gold file (file-level localisation)."""
    file_recall: float = 0.0

    def row(self) -> list[str]:
        return [f"{self.mrr:.3f}", f"{self.recall:.3f}"]


def first_sentence(docstring: str) -> str:
    """The docstring's first sentence (its first paragraph, cut at the first full stop)."""
    paragraph = docstring.strip().split("\n\n", 1)[0]
    text = " ".join(paragraph.split())
    match = re.search(r"(?<=[a-z0-9)\]`'\"])\.(\s|$)", text)
    return text[: match.start()] if match else text


def strip_docstrings(source: str) -> tuple[str, dict[str, tuple[str, int, int]]]:
    """Remove function docstrings from Python source.

    Returns:
        The stripped source, and per qualified function name its docstring's first sentence
        and its line range in the stripped source. Functions whose docstring shares a line
        with other code are left alone and not returned.

    Raises:
        SyntaxError: If ``source`` is not valid Python.
    """
    tree = ast.parse(source)
    lines = source.split("\n")
    removals: list[tuple[int, int, str | None]] = []  # (first, last) 1-based, replacement
    sentences: dict[str, str] = {}
    for qualname, node in _functions(tree):
        body = node.body
        if not (
            body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            continue
        doc = body[0]
        end = doc.end_lineno or doc.lineno
        if doc.lineno <= node.lineno or lines[end - 1].rstrip()[-3:] not in ('"""', "'''"):
            continue  # one-liner or docstring followed by code on its line
        sentence = first_sentence(doc.value.value)  # type: ignore[attr-defined]
        if len(sentence.split()) < _MIN_QUERY_WORDS or qualname.split(".")[-1].startswith("test"):
            continue
        filler = " " * doc.col_offset + "pass" if len(body) == 1 else None
        removals.append((doc.lineno, end, filler))
        sentences[qualname] = sentence
    for first, last, filler in sorted(removals, reverse=True):
        lines[first - 1 : last] = [filler] if filler is not None else []
    stripped = "\n".join(lines)
    spans = {
        q: (sentences[q], n.lineno, n.end_lineno or n.lineno)
        for q, n in _functions(ast.parse(stripped))
        if q in sentences
    }
    return stripped, spans


def _functions(tree: ast.AST, prefix: str = "") -> list[tuple[str, ast.AST]]:
    out: list[tuple[str, Any]] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = prefix + node.name
            out.append((name, node))
            out += _functions(node, name + ".")
        elif isinstance(node, ast.ClassDef):
            out += _functions(node, prefix + node.name + ".")
    return out


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


_BLOCK_TAG = re.compile(r"^\s*@\w+", re.MULTILINE)  # "@param x", "@returns"
# Languages whose comments start with "#" (Rust's "#[attribute]" is code, and C's "#define")
_HASH_COMMENT_LANGUAGES = frozenset({"ruby", "bash", "perl", "r", "elixir", "julia"})


def strip_doc_comments(
    path: str, source: str, chunker: Chunker | None = None
) -> tuple[str, dict[str, tuple[str, int, int]]]:
    """Remove the doc comments of the functions and methods of a file in any language the
    chunker parses (other than Python, see :func:`strip_docstrings`).

    A comment's lines are blanked, not deleted, so every line keeps its number.

    Returns:
        The stripped source, and per qualified name the comment's first sentence and the
        definition's line range (without the comment). Files without a grammar, and
        definitions whose comment shares a line with code, are not returned.
    """
    from c2rag.chunk import Chunker

    # One chunk per definition: no statement-boundary parts to stitch back together.
    chunker = chunker or Chunker(max_tokens=1 << 20)
    found = chunker.chunk(path, source.encode("utf-8"))
    lines = source.split("\n")
    blanked: set[int] = set()
    spans: dict[str, tuple[str, int, int]] = {}
    for chunk in found.chunks:
        if chunk.kind not in ("function", "method") or not chunk.docstring:
            continue
        # JSDoc, Javadoc and Doxygen end the description at the first block tag
        sentence = first_sentence(_BLOCK_TAG.split(chunk.docstring, maxsplit=1)[0])
        last_part = chunk.name.rsplit(".", 1)[-1].rsplit("::", 1)[-1]
        if len(sentence.split()) < _MIN_QUERY_WORDS or last_part.lower().startswith("test"):
            continue
        comment = _comment_lines(lines, chunk.start_line - 1, found.language)
        if not comment or comment[-1] + 1 >= chunk.end_line or chunk.name in spans:
            continue  # no comment of its own above it, or nothing but comment (a stub)
        blanked.update(comment)
        start = comment[-1] + 1  # 0-based: the line after the comment, past blank lines
        while not lines[start].strip():
            start += 1
        spans[chunk.name] = (sentence, start + 1, chunk.end_line)
    text = "\n".join("" if i in blanked else line for i, line in enumerate(lines))
    return text, spans


def docstring_cases(
    files: Mapping[str, str], *, max_cases: int | None = None, seed: int = 0
) -> tuple[dict[str, str], list[EvalCase]]:
    """Build CodeSearchNet-style cases from source files: Python docstrings, and the doc
    comments of every other language the chunker parses.

    Args:
        files: Repository-relative path → source.
        max_cases: Keep a seeded random sample of this many cases.
        seed: Sampling seed.

    Returns:
        The files with docstrings removed (unparsable files are kept as they are), and the
        cases: first docstring sentence → the function's lines in the stripped file.
    """
    from c2rag.chunk import SPECS, Chunker, detect_language

    stripped: dict[str, str] = {}
    cases: list[EvalCase] = []
    chunker = Chunker(max_tokens=1 << 20)
    for path, source in sorted(files.items()):
        try:
            if path.endswith(".py"):
                text, spans = strip_docstrings(source)
            elif detect_language(path, source.encode("utf-8", "replace")) in SPECS:
                text, spans = strip_doc_comments(path, source, chunker)
            else:
                stripped[path] = source
                continue
        except (SyntaxError, ValueError):
            stripped[path] = source
            continue
        stripped[path] = text
        cases += [EvalCase(q, path, a, b, name) for name, (q, a, b) in spans.items()]
    # The same sentence on several functions (overloads, copies) has no single answer.
    counts: dict[Any, int] = {}
    for case in cases:
        counts[case.query] = counts.get(case.query, 0) + 1
    cases = [c for c in cases if counts[c.query] == 1]
    if max_cases is not None and len(cases) > max_cases:
        cases = random.Random(seed).sample(cases, max_cases)
    return stripped, cases


def write_git_repo(files: Mapping[str, str], root: Path, *, message: str = "eval corpus") -> Path:
    """Write files into a new git repository at ``root`` and commit them."""
    root.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    env_args = ["-c", "user.name=c2rag eval", "-c", "user.email=eval@c2rag.invalid"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", message]):
        subprocess.run(["git", *env_args, *args], cwd=root, check=True, capture_output=True)
    return root


def evaluate(
    search: Callable[[str | tuple[str, ...]], Sequence[Hit]],
    cases: Sequence[EvalCase],
    *,
    k: int = 10,
) -> Metrics:
    """MRR@k and recall@k of a search function over cases.

    A case is answered at the rank of the first hit in its file whose lines overlap its own
    (function level), or of the first hit in its file (file level).
    """
    if not cases:
        return Metrics(0.0, 0.0, 0, k)
    reciprocal = found = file_reciprocal = file_found = 0.0
    for case in cases:
        hits = list(search(case.query))[:k]
        in_file = [r for r, h in enumerate(hits, 1) if h.chunk.path == case.path]
        overlap = [
            r
            for r in in_file
            if hits[r - 1].chunk.start_line <= case.end_line
            and case.start_line <= hits[r - 1].chunk.end_line
        ]
        if overlap:
            reciprocal += 1.0 / overlap[0]
            found += 1
        if in_file:
            file_reciprocal += 1.0 / in_file[0]
            file_found += 1
    n = len(cases)
    return Metrics(reciprocal / n, found / n, n, k, file_reciprocal / n, file_found / n)


def naive_rrf_weights() -> Any:
    """Equal-weight RRF (k=60) of dense and BM25: the baseline fusion to beat."""
    from c2rag.retrieve.fusion import FusionWeights

    equal = {"dense": 1.0, "lexical": 1.0, "symbol": 0.0}
    return FusionWeights(prose=equal, code=equal, k=60.0, depth=100, adaptive=False)
