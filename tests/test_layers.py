"""Imports point one way: git → chunk → encode → store → retrieve → context.

Checked on the source (AST), so a stray import fails here rather than in review.
Orchestrators (``cli``, ``mcp_server``, ``eval_runner``, the package ``__init__``) may import
anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "c2rag"
BASE = {"errors", "types", "_lazy"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "types": set(),
    "git": BASE,
    "chunk": BASE,
    "encode": BASE,
    "store": BASE,
    "context": BASE,
    "citations": BASE | {"git"},
    "retrieve": BASE | {"git", "encode", "store", "context"},
    # measures the channels on an index's documented functions (the benchmark's questions)
    "calibrate": BASE | {"chunk", "store", "retrieve"},
    "index": BASE | {"git", "chunk", "encode", "store", "index_report", "calibrate"},
    "index_report": BASE | {"store"},
    "org": BASE | {"git", "chunk", "encode", "store", "index", "index_report", "retrieve"},
}


def _imports(path: Path) -> set[str]:
    """Top-level c2rag subpackages or modules imported by ``path``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found |= {n.split(".")[1] for n in names if n.startswith("c2rag.")}
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_what_it_may(layer: str) -> None:
    files = [PACKAGE / f"{layer}.py"] if (PACKAGE / f"{layer}.py").exists() else []
    files += sorted((PACKAGE / layer).rglob("*.py")) if (PACKAGE / layer).is_dir() else []
    assert files, f"no source for layer {layer}"
    for path in files:
        stray = _imports(path) - ALLOWED[layer] - {layer}
        assert not stray, f"{path.relative_to(PACKAGE.parent)} imports {sorted(stray)}"


def test_every_module_has_a_layer_or_is_an_orchestrator() -> None:
    orchestrators = {"__init__", "__main__", "cli", "mcp_server", "eval_runner"}
    tops = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()}
    tops = {t for t in tops if not t.startswith((".", "__pycache__")) and t != "py"}
    unknown = tops - set(ALLOWED) - orchestrators - {"_lazy"}
    assert not unknown, f"modules with no layer rule: {sorted(unknown)}"
