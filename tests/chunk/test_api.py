"""The chunker's public surface: contract names, ``__all__``, and no heavy imports."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import c2rag
import c2rag.chunk
from c2rag.chunk import CHUNKER_VERSION, Chunker, FileChunks, chunk_file, detect_language


def test_contract_names() -> None:
    assert c2rag.Chunker is Chunker and c2rag.chunk_file is chunk_file
    fc = Chunker().chunk("m.py", b"X = 1\n")
    assert isinstance(fc, FileChunks)
    assert (fc.path, fc.language, fc.skipped, fc.flags) == ("m.py", "python", None, ())
    assert isinstance(fc.chunks, list)
    assert Chunker().version.startswith(f"c2rag-chunk/{CHUNKER_VERSION};")
    assert detect_language("m.go") == "go"


def test_every_module_declares_what_it_exports() -> None:
    for info in pkgutil.iter_modules(c2rag.chunk.__path__):
        module = importlib.import_module(f"c2rag.chunk.{info.name}")
        assert module.__all__, info.name
        assert all(hasattr(module, name) for name in module.__all__), info.name
    assert all(hasattr(c2rag.chunk, name) for name in c2rag.chunk.__all__)


def test_chunking_imports_no_model_or_index_code() -> None:
    code = (
        "import sys, c2rag.chunk\n"
        "c2rag.chunk.Chunker().chunk('a.py', b'def f():\\n    pass\\n')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in {'torch', 'transformers', 'chromadb'}"
        " or m.startswith(('c2rag.encode', 'c2rag.store', 'c2rag.index', 'c2rag.retrieve'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=c2rag.__path__[0] + "/..")
