"""``c2rag eval`` on a real repository."""

from __future__ import annotations

import json

from click.testing import CliRunner

from c2rag.cli import cli


def test_eval_scores_every_configuration(codeqa_index) -> None:
    args = ["eval", str(codeqa_index.root), "--model", str(codeqa_index.model_dir), "--json"]
    args += ["--max-queries", "12"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    rows = report["results"]
    assert set(rows) == {"dense", "bm25", "naive RRF (dense+BM25, k=60)", "hybrid (c2rag)"}
    assert report["files"] == 6 and report["queries"] == 12
    assert rows["hybrid (c2rag)"]["recall"] >= 0.8
    for row in rows.values():
        assert 0.0 <= row["mrr"] <= row["recall"] <= 1.0


def test_eval_table_and_no_python(codeqa_index, make_repo) -> None:
    runner = CliRunner()
    table = runner.invoke(
        cli,
        [
            "eval",
            str(codeqa_index.root),
            "--model",
            str(codeqa_index.model_dir),
            "--max-queries",
            "5",
        ],
    )
    assert table.exit_code == 0, table.output
    assert "5 queries from 6 Python files" in table.stdout and "hybrid (c2rag)" in table.stdout
    docs = make_repo(files={"README.md": "# nothing to see\n"})
    empty = runner.invoke(cli, ["eval", str(docs.root), "--model", str(codeqa_index.model_dir)])
    assert empty.exit_code == 1 and "no Python files" in empty.output
