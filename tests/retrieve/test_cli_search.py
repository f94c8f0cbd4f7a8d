"""``c2rag search`` and ``c2rag chat`` through click's CliRunner, on the indexed sample repo."""

from __future__ import annotations

import json

from click.testing import CliRunner

from c2rag.cli import cli


def _args(index) -> list[str]:
    return [str(index.root), "--store", str(index.store_dir), "--model", str(index.model_dir)]


def _ok(command: str, index, *args: str, stdin: str | None = None):
    result = CliRunner().invoke(cli, [command, *args, *_args(index)], input=stdin)
    assert result.exit_code == 0, result.output
    return result


def test_search_lists_cited_hits(codeqa_index) -> None:
    result = CliRunner().invoke(
        cli, ["search", "parse the Retry-After header", *_args(codeqa_index), "-k", "3"]
    )
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    assert " 1. src/storage/upload.py:" in first and "parse_retry_after" in first


def test_search_json_with_filters(codeqa_index) -> None:
    result = _ok(
        "search", codeqa_index, "fetch a user profile", "--json", "--language", "typescript"
    )
    rows = json.loads(result.stdout)
    assert rows and {r["language"] for r in rows} == {"typescript"}
    row = rows[0]
    assert (
        row["citation"]
        == f"{row['path']}:{row['start_line']}-{row['end_line']}@{row['commit'][:12]}"
    )
    assert "fetchUserProfile" in row["text"]


def test_search_packed_context(codeqa_index) -> None:
    args = ["search", "hash a password", *_args(codeqa_index), "--context", "400"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "### src/users/accounts.py:" in result.output and "```python" in result.output


def test_chat_non_interactive_turns(codeqa_index) -> None:
    result = _ok(
        "chat",
        codeqa_index,
        "--turn",
        "Where do we retry failed uploads?",
        "--turn",
        "And who calls it?",
    )
    assert "=== Turn 1: Where do we retry failed uploads?" in result.output
    assert "=== Turn 2: And who calls it?" in result.output
    assert "(follow-up about:" in result.output
    assert result.output.count("--- new citations:") == 2


def test_chat_json_and_interactive(codeqa_index) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["chat", *_args(codeqa_index), "--json", "--turn", "LRUCache.evict"]
    )
    assert result.exit_code == 0, result.output
    turn = json.loads(result.stdout.strip().splitlines()[-1])
    assert any("evict" in s for snip in turn["snippets"] for s in snip["symbols"])
    interactive = runner.invoke(cli, ["chat", *_args(codeqa_index)], input="merge two dicts\n\n")
    assert interactive.exit_code == 0, interactive.output
    assert "=== Turn 1: merge two dicts" in interactive.output


def test_errors_are_clean_messages(codeqa_index, tmp_path) -> None:
    runner = CliRunner()
    missing = runner.invoke(
        cli, ["search", "x", str(codeqa_index.root), "--store", str(tmp_path / "none")]
    )
    assert missing.exit_code == 1 and "c2rag index" in missing.output
    empty = runner.invoke(cli, ["search", "  ", *_args(codeqa_index)])
    assert empty.exit_code == 1 and "empty query" in empty.output
    swapped = runner.invoke(cli, ["search", str(codeqa_index.root), "where are uploads retried?"])
    assert swapped.exit_code == 2
    assert f"the question comes first: c2rag search QUESTION {codeqa_index.root}" in (
        swapped.output
    )
    typo = runner.invoke(cli, ["search", "uploads", str(tmp_path / "no-such-repo")])
    assert typo.exit_code == 2 and "does not exist" in typo.output
    assert "question comes first" not in typo.output
