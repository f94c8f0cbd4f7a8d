"""Environment for running the examples as a user would: in their own processes."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "agent_examples"
CITATION = re.compile(r"[\w./-]+:\d+-\d+@[0-9a-f]{12}")
QUESTIONS = (
    "Where are failed uploads retried?",
    "And who calls it?",
    "Does it honour the Retry-After header?",
)


def subprocess_pythonpath() -> str:
    """The checkout and its integration packages for child processes, as pytest's
    ``pythonpath`` setting gives them to this one (when the project is not pip-installed)."""
    paths = [str(ROOT), *sorted(str(p) for p in (ROOT / "integrations").iterdir() if p.is_dir())]
    return os.pathsep.join([*paths, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)


@pytest.fixture
def example_env(codeqa_repo: Any, minilm_dir: Path, tmp_path: Path) -> dict[str, str]:
    """Environment of an example run: the sample repository, MiniLM, a fresh store, no LLM."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"C2RAG_EXAMPLE_CHAT_MODEL", "C2RAG_EXAMPLE_LLM", "C2RAG_CHROMA_HOST"}
    }
    env.update(
        PYTHONPATH=subprocess_pythonpath(),
        C2RAG_MODEL=str(minilm_dir),
        C2RAG_STORE=str(tmp_path / "store"),
        C2RAG_EXAMPLE_REPO=str(codeqa_repo.root),
        C2RAG_EXAMPLE_QUESTIONS="\n".join(QUESTIONS),
        HF_HUB_OFFLINE="1",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def python() -> str:
    """The interpreter running the tests (the project's virtual environment)."""
    return sys.executable
