"""CodeRetriever.localize on the indexed sample repository (MiniLM, real traceback)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from c2rag.retrieve import CodeRetriever
from c2rag.retrieve.localize import FileLocation, Localization, SymbolLocation
from c2rag.types import Citation


def _crash_report(root) -> str:
    """The real traceback of the uploader's CLI run where no configuration file exists."""
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.run(
        [sys.executable, "-c", "from cli.main import main; main(['upload', 'a.txt'])"],
        cwd=root.parent,  # no uploader.toml there
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and "FileNotFoundError" in run.stderr, run.stderr
    return f"Uploader crashes at startup\n\nRunning the uploader fails right away:\n\n{run.stderr}"


def test_traceback_points_at_the_innermost_frame_and_its_callers(
    codeqa_retriever: CodeRetriever, codeqa_index
) -> None:
    result = codeqa_retriever.localize(_crash_report(codeqa_index.root), k=3)
    assert isinstance(result, Localization)
    files = [f.path for f in result.files]
    assert files[0] == "src/config/loader.py"
    assert "src/cli/main.py" in files
    top: FileLocation = result.files[0]
    assert isinstance(top.symbols[0], SymbolLocation)
    assert top.symbols[0].name.endswith("load_config")
    assert top.evidence[0].source == "frame" and "load_config" in top.evidence[0].detail
    assert top.commit == codeqa_index.commit
    cite = top.symbols[0].citation
    assert Citation.parse(str(cite)) == Citation(
        "src/config/loader.py", cite.start_line, cite.end_line, codeqa_index.commit[:12]
    )
    # the standard library's frames are reported, mapped to no indexed file
    assert any(path is None for _, path in result.frames)
    assert result.symbols()[0].name.endswith("load_config")
    assert "src/config/loader.py" in result.render()


def test_javascript_stack_and_prose_with_identifiers(codeqa_retriever: CodeRetriever) -> None:
    js = (
        "Profile page is blank\n\nError: profile request failed: 500\n"
        "    at fetchUserProfile (https://app.example.com/web/src/api.ts:12:11)\n"
        "    at async ProfilePage (https://app.example.com/web/src/pages/profile.tsx:30:5)"
    )
    result = codeqa_retriever.localize(js, k=2)
    assert result.files[0].path == "web/src/api.ts"
    assert result.files[0].symbols[0].name.endswith("fetchUserProfile")
    prose = (
        "The cache keeps more entries than its capacity\n\n"
        "After many calls to LRUCache.put the cache is larger than the configured capacity; "
        "the oldest entries should be dropped."
    )
    result = codeqa_retriever.localize(prose, k=3)
    assert result.files[0].path == "src/cache/lru.py"
    names = [s.name.rsplit(".", 1)[-1] for s in result.files[0].symbols]
    assert "put" in names[:2]
    assert {"symbol", "lexical", "dense"} <= {e.source for e in result.files[0].evidence}


def test_k_is_files_results_are_deterministic_and_filters_apply(
    codeqa_retriever: CodeRetriever, codeqa_index
) -> None:
    report = _crash_report(codeqa_index.root)
    one = codeqa_retriever.localize(report, k=4)
    two = codeqa_retriever.localize(report, k=4)
    assert [f.path for f in one.files] == [f.path for f in two.files]
    assert [f.score for f in one.files] == [f.score for f in two.files]
    paths = [f.path for f in one.files]
    assert len(paths) == 4 and len(set(paths)) == 4
    assert all(len(f.symbols) <= 5 for f in one.files)
    only = codeqa_retriever.localize(report, k=4, filters={"paths": ["src/storage/**"]})
    assert only.files and {f.path for f in only.files} <= {
        "src/storage/upload.py",
        "src/storage/client.py",
    }
    none = codeqa_retriever.localize(report, filters={"paths": ["nothing/**"]})
    assert none.files == [] and any(n.startswith("no results: filter") for n in none.notes)


def test_bad_and_huge_input(codeqa_retriever: CodeRetriever, codeqa_index) -> None:
    for empty in ("", " \n\t "):
        with pytest.raises(ValueError, match="empty text"):
            codeqa_retriever.localize(empty)
    with pytest.raises(ValueError, match="k must be at least 1"):
        codeqa_retriever.localize("retry uploads", k=0)
    with pytest.raises(ValueError, match="unknown filter"):
        codeqa_retriever.localize("retry uploads", filters={"folder": "src"})
    report = _crash_report(codeqa_index.root)
    log = "\n".join(f"DEBUG heartbeat {n} ok" for n in range(60_000))
    huge = f"{report}\n{log}\n{report}"
    assert len(huge) > 1_000_000
    result = codeqa_retriever.localize(huge, k=3)
    assert any("truncated" in n for n in result.notes)
    assert any("window" in n for n in result.notes)
    assert "FileNotFoundError" in result.dense_text
    assert result.files[0].path == "src/config/loader.py"
