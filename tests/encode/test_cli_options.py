"""The encoder's CLI hooks: ``--threads`` and the dtype line of ``c2rag status``."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from c2rag.cli import cli


def test_threads_option_and_status_dtype_line(
    make_repo: Callable[..., Any],
    tiny_c2llm_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("C2RAG_DTYPE", raising=False)
    monkeypatch.setenv("C2RAG_THREADS", "")  # restored after the test: the option sets it
    repo = make_repo(files={"app.py": "def add(a, b):\n    return a + b\n"})
    store = ["--store", str(tmp_path / "store")]
    runner = CliRunner()
    before = runner.invoke(cli, ["status", str(repo.root), *store])
    assert before.exit_code == 1  # no index yet: the status itself says so
    built = runner.invoke(
        cli, ["--threads", "1", "index", str(repo.root), *store, "--model", str(tiny_c2llm_dir)]
    )
    assert built.exit_code == 0, built.output
    assert os.environ["C2RAG_THREADS"] == "1"
    status = runner.invoke(cli, ["status", str(repo.root), *store])
    assert status.exit_code == 0, status.output
    # The index build probed this CPU; status reports the cached answer.
    assert "encoder dtype on CPU: " in status.output
    assert "cached probe: bf16 ran" in status.output
    # Another model's probe cached later (a shape of its own) does not stand for this one.
    cache = tmp_path / "cache" / "c2rag" / "cpu-dtype.json"
    entries = json.loads(cache.read_text())
    (key,) = entries
    other = key.replace(key.split(" | ")[3], "7x11")
    entries[other] = {
        **entries[key],
        "dtype": "float32",
        "candidate_s": 100 * entries[key]["fp32_s"],
    }
    cache.write_text(json.dumps(entries))
    again = runner.invoke(cli, ["status", str(repo.root), *store])
    assert again.output == status.output
    assert "0.01×" not in again.output
    monkeypatch.setenv("C2RAG_DTYPE", "fp32")
    status = runner.invoke(cli, ["status", str(repo.root), *store])
    assert "encoder dtype on CPU: fp32 (from $C2RAG_DTYPE)" in status.output
    bad = runner.invoke(cli, ["--threads", "0", "status", str(repo.root), *store])
    assert bad.exit_code == 2
    assert "--threads" in bad.output
