"""What ``c2rag status`` / ``index`` / ``search`` say: counts that agree, uncommitted changes,
the model by id, every word defined in docs/cli.md, a dead Chroma server noticed before torch."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from c2rag.cli import cli
from c2rag.encode.ecosystem import model_id_of
from tests.examples.support import subprocess_pythonpath
from tests.index.conftest import PROJECT

DOCS = (Path(__file__).parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tiny_c2llm_dir: Path) -> CliRunner:
    monkeypatch.setenv("C2RAG_MODEL", str(tiny_c2llm_dir))
    return CliRunner()


def _json(runner: CliRunner, *args: str) -> dict[str, Any]:
    result = runner.invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _phrases(summary: str) -> set[str]:
    """The words after each count in a report ("3 moved with renamed files" → the words)."""
    found = set()
    for phrase in re.findall(r"\b\d+ ([a-z][a-z ]*[a-z])", summary):
        phrase = re.split(r" (?:since|in all|texts)\b", phrase)[0]
        found.add(phrase.removeprefix("of them ").strip())
    return found


def test_status_counts_what_index_then_does(
    runner: CliRunner, make_repo: Any, tmp_path: Path
) -> None:
    repo = make_repo(files=PROJECT)
    store = str(tmp_path / "store")
    where = [str(repo.root), "--store", store]
    assert runner.invoke(cli, ["index", *where, "--no-progress"]).exit_code == 0

    # A rename, an edit, a new file, a deleted file and a file c2rag skips, in one commit.
    source = repo.read("pkg/maths.py").decode()
    repo.write("pkg/maths.py", source + "\n\ndef triple(x):\n    return 3 * x\n")
    repo.git("mv", "pkg/strings.py", "pkg/text.py")
    repo.write("pkg/extra.py", "def extra():\n    return 1\n")
    repo.write("package-lock.json", '{"lockfileVersion": 3}\n')
    repo.commit("several changes")
    status = _json(runner, "status", *where)
    assert not status["up_to_date"] and status["update_mode"] == "incremental"
    report = _json(runner, "index", *where)
    assert report["mode"] == "incremental"
    assert len(status["files_changed"]) == report["files_checked"]
    assert "pkg/strings.py" in status["files_changed"] and "pkg/text.py" in status["files_changed"]
    assert report["chunks_relabelled"] > 0  # the renamed file's chunks moved, not re-embedded

    # Every count in the report is named with words docs/cli.md defines.
    summary = runner.invoke(cli, ["index", *where, "--no-progress"]).stdout
    assert summary.startswith("already up to date:")  # nothing left to do
    repo.write("pkg/extra.py", "def extra():\n    return 2\n")
    repo.commit("edit")
    summary = runner.invoke(cli, ["index", *where, "--no-progress"]).stdout
    phrases = _phrases(summary)
    assert {"new", "deleted", "moved with renamed files", "copied from the index"} <= phrases
    undefined = sorted(p for p in phrases if p not in DOCS)
    assert not undefined, f"words not defined in docs/cli.md: {undefined}"
    for word in ("relabelled", "tagged", "untagged", "per_file_cap"):
        assert word not in summary


def test_status_reports_uncommitted_changes(
    runner: CliRunner, make_repo: Any, tmp_path: Path
) -> None:
    repo = make_repo(files=PROJECT)
    where = [str(repo.root), "--store", str(tmp_path / "store")]
    assert runner.invoke(cli, ["index", *where, "--no-progress"]).exit_code == 0
    repo.write("pkg/maths.py", "def changed():\n    return 0\n")
    repo.write("notes.py", "X = 1\n")
    result = runner.invoke(cli, ["status", *where])
    assert "is indexed at HEAD" in result.stdout
    assert "uncommitted changes: 2 files differ from HEAD" in result.stdout
    assert "notes.py, pkg/maths.py" in result.stdout and "--worktree" in result.stdout
    assert _json(runner, "status", *where)["uncommitted"] == ["notes.py", "pkg/maths.py"]
    assert runner.invoke(cli, ["index", *where, "--worktree", "--no-progress"]).exit_code == 0
    assert "uncommitted changes" not in runner.invoke(cli, ["status", *where]).stdout


def test_models_are_named_by_id(minilm_dir: Path, tmp_path: Path) -> None:
    assert model_id_of(minilm_dir) == "sentence-transformers/all-MiniLM-L6-v2"
    snapshot = tmp_path / "models--codefuse-ai--C2LLM-0.5B" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    assert model_id_of(snapshot) == "codefuse-ai/C2LLM-0.5B"
    assert model_id_of(tmp_path) is None


def test_search_notices_a_dead_chroma_server_before_loading_torch(make_repo: Any) -> None:
    repo = make_repo(files=PROJECT)
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('torch loaded:', 'torch' in sys.modules, file=sys.stderr))\n"
        "from c2rag.cli import cli\n"
        f"cli(['search', 'x', {str(repo.root)!r}, '--chroma-host', '127.0.0.1',"
        " '--chroma-port', '1'], prog_name='c2rag')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": subprocess_pythonpath(), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin"},
        timeout=300,
        check=False,
    )
    assert proc.returncode == 1
    assert "cannot reach the Chroma server at 127.0.0.1:1" in proc.stderr
    assert "torch loaded: False" in proc.stderr
