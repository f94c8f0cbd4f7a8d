"""The default model: C2LLM when at hand, else the real MiniLM from its wheel, never random."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import c2rag
from c2rag.encode.defaults import DEFAULT_MODEL, MODEL_ENV, resolve_default_model
from c2rag.encode.engine import Encoder

SHA = "fedcba9876543210fedcba9876543210fedcba98"


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MODEL_ENV, raising=False)


def test_environment_variable_wins(monkeypatch: pytest.MonkeyPatch, tiny_c2llm_dir: Path) -> None:
    monkeypatch.setenv(MODEL_ENV, str(tiny_c2llm_dir))
    chosen = resolve_default_model()
    assert chosen.name_or_path == str(tiny_c2llm_dir)
    assert not chosen.is_fallback
    assert MODEL_ENV in chosen.message
    encoder = Encoder(device="cpu", dtype="fp32")  # model=None follows the default
    assert encoder.model_name == tiny_c2llm_dir.name
    assert encoder.pooling == "pma"


def test_cached_c2llm_is_used(no_env: None, tmp_path: Path, tiny_c2llm_dir: Path) -> None:
    repo = tmp_path / f"models--{DEFAULT_MODEL.replace('/', '--')}"
    shutil.copytree(tiny_c2llm_dir, repo / "snapshots" / SHA)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(SHA)
    chosen = resolve_default_model(cache_dir=tmp_path)
    assert Path(chosen.name_or_path) == repo / "snapshots" / SHA
    assert not chosen.is_fallback
    # its fingerprint names the hub repository and the snapshot's commit
    encoder = Encoder(chosen.name_or_path, device="cpu", dtype="fp32")
    assert encoder.fingerprint.startswith(f"{DEFAULT_MODEL}@{SHA};")


def test_falls_back_to_the_real_minilm(no_env: None, tmp_path: Path, minilm_dir: Path) -> None:
    chosen = resolve_default_model(cache_dir=tmp_path / "empty-cache")
    assert chosen.is_fallback
    assert Path(chosen.name_or_path) == minilm_dir
    assert "all-MiniLM-L6-v2" in chosen.message
    assert DEFAULT_MODEL in chosen.message
    encoder = Encoder(chosen.name_or_path, device="cpu", dtype="fp32")
    docs = encoder.encode_documents(["def add(a, b):\n    return a + b", "import os"])
    query = encoder.encode_queries(["add two numbers"])
    assert float((query @ docs.T)[0, 0]) > float((query @ docs.T)[0, 1])
    assert np.isfinite(docs).all()


def test_public_names_resolve() -> None:
    assert c2rag.Encoder is Encoder
    assert "text2code" in c2rag.TASK_PROMPTS
    assert c2rag.C2LLMModel.__module__ == "c2rag.encode.c2llm"
