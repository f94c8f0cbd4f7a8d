"""The public surface: every exported name resolves, and importing c2rag stays light."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = [
    "c2rag",
    "c2rag.chunk",
    "c2rag.git",
    "c2rag.store",
    "c2rag.retrieve",
    "c2rag.context",
    "langchain_c2rag",
    "llama_index.embeddings.c2llm",
    "llama_index.retrievers.c2rag",
    "llama_index.node_parser.c2rag",
]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    exported = module.__all__
    assert exported, f"{package} exports nothing"
    missing = [name for name in exported if not hasattr(module, name)]
    assert not missing, f"{package}.__all__ names missing attributes: {missing}"


def test_import_c2rag_does_not_load_torch_or_chromadb() -> None:
    code = (
        "import sys, c2rag, c2rag.cli; "
        "print(sorted(m for m in ('torch', 'chromadb', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
