"""Fixtures of the example tests: the environment a user's run of an example would have."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.examples.support import QUESTIONS, subprocess_pythonpath


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
