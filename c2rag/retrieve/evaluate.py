"""Measuring retrieval on real code: the CodeSearchNet construction, and the metrics.

Queries are the first sentence of each function's docstring (Python) or doc comment (every
other language the chunker parses, through :func:`c2rag.chunk.strip_doc_comments`: JSDoc,
Javadoc, Go and Rust ``//`` / ``///`` comments, Doxygen); they are removed from the code that
gets indexed (otherwise the query would be copied in the answer). A query is answered when a
retrieved chunk of the right file overlaps the function's lines. This backs ``c2rag eval`` and
``benchmarks/retrieval_quality.py``.
"""

from __future__ import annotations

import ast
import random
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from c2rag.types import Hit

__all__ = [
    "EvalCase",
    "Metrics",
    "docstring_cases",
    "evaluate",
    "naive_rrf_weights",
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


def _is_query(sentence: str, name: str) -> bool:
    """Whether a first sentence makes a query: three words or more, and not a test's."""
    last = name.rsplit(".", 1)[-1].rsplit("::", 1)[-1]
    return len(sentence.split()) >= _MIN_QUERY_WORDS and not last.startswith(("test", "Test"))


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
        if not _is_query(sentence, qualname):
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


DocComments = Callable[..., tuple[str, dict[str, tuple[str, int, int]]]]
"""``(path, source, select=...) → (source without the selected doc comments, {name:
(description, start, end)})``: :func:`c2rag.chunk.strip_doc_comments`, given by the caller
(this layer parses no code)."""


def docstring_cases(
    files: Mapping[str, str],
    *,
    max_cases: int | None = None,
    seed: int = 0,
    doc_comments: DocComments | None = None,
) -> tuple[dict[str, str], list[EvalCase]]:
    """Build CodeSearchNet-style cases from source files: Python docstrings, and with
    ``doc_comments`` the doc comments of every other language it parses.

    Args:
        files: Repository-relative path → source.
        max_cases: Keep a seeded random sample of this many cases.
        seed: Sampling seed.
        doc_comments: Strips the doc comments of a non-Python file (see :data:`DocComments`);
            without it only Python files make cases.

    Returns:
        The files with docstrings removed (unparsable files are kept as they are), and the
        cases: first docstring sentence → the function's lines in the stripped file.
    """
    stripped: dict[str, str] = {}
    cases: list[EvalCase] = []
    for path, source in sorted(files.items()):
        try:
            if path.endswith(".py"):
                text, spans = strip_docstrings(source)
            elif doc_comments is not None:
                text, described = doc_comments(
                    path, source, select=lambda name, doc: _is_query(first_sentence(doc), name)
                )
                spans = {
                    name: (first_sentence(description), start, end)
                    for name, (description, start, end) in described.items()
                }
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
