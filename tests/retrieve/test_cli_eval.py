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
    assert report["files"] == 7 and report["queries"] == 12  # six Python files, one TypeScript
    assert rows["hybrid (c2rag)"]["recall"] >= 0.8
    for row in rows.values():
        assert 0.0 <= row["mrr"] <= row["recall"] <= 1.0


def test_eval_table_and_no_source(codeqa_index, make_repo) -> None:
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
    assert "5 queries from 7 source files" in table.stdout and "hybrid (c2rag)" in table.stdout
    docs = make_repo(files={"README.md": "# nothing to see\n"})
    empty = runner.invoke(cli, ["eval", str(docs.root), "--model", str(codeqa_index.model_dir)])
    assert empty.exit_code == 1 and "no source files" in empty.output


JS = """\
/**
 * Parse a cookie header into an object of names and values.
 * @param {string} header
 */
function parseCookies(header) {
  return Object.fromEntries(header.split(';').map((p) => p.trim().split('=')));
}

// Serialize one cookie with its attributes for a Set-Cookie header.
function serializeCookie(name, value, options) {
  return name + '=' + encodeURIComponent(value) + (options.path ? '; Path=' + options.path : '');
}
"""


def test_eval_builds_queries_from_doc_comments_of_a_javascript_repository(
    codeqa_index, make_repo
) -> None:
    repo = make_repo(files={"lib/cookies.js": JS, "README.md": "# cookies\n"})
    args = ["eval", str(repo.root), "--model", str(codeqa_index.model_dir), "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["files"] == 1 and report["queries"] == 2  # the README makes no query
    assert "by_language" not in report  # one language: no breakdown


PY = '''\
def parse_cookie_date(value):
    """Parse the expiry date of a cookie into a timestamp in seconds."""
    return int(value)
'''


def test_eval_of_a_repository_in_two_languages_reports_each(codeqa_index, make_repo) -> None:
    repo = make_repo(files={"lib/cookies.js": JS, "server/dates.py": PY})
    runner = CliRunner()
    args = ["eval", str(repo.root), "--model", str(codeqa_index.model_dir)]
    report = json.loads(runner.invoke(cli, [*args, "--json"]).stdout.strip().splitlines()[-1])
    by_language = report["by_language"]
    assert sorted(by_language) == ["javascript", "python"]
    assert by_language["javascript"]["dense"]["n"] == 2 and by_language["python"]["dense"]["n"] == 1
    assert report["queries"] == 3
    table = runner.invoke(cli, args)
    assert table.exit_code == 0, table.output
    assert "Too few queries for a table of their own: javascript 2, python 1" in table.stdout


def test_code_files_are_the_parsed_languages_found_by_name_or_content(make_repo) -> None:
    from c2rag.eval_runner import code_files

    repo = make_repo(
        files={
            "tools/release": "#!/usr/bin/env python3\nprint('release')\n",
            "include/api.h": "int api_version(void);\n",
            "README.md": "# project\n",
            "config.yaml": "debug: true\n",
            "notes": "plain text, no shebang\n",
        }
    )
    assert sorted(code_files(repo.root)) == ["include/api.h", "tools/release"]


def test_eval_prints_a_table_for_each_language_with_enough_queries(codeqa_index, make_repo) -> None:
    topics = ["cookies", "headers", "sessions", "uploads", "retries", "caches", "tokens"]
    topics += ["routes", "templates", "streams", "queues"]
    js = "".join(
        f"/** Read the {t} of an incoming request into a plain object. */\n"
        f"function read_{t}(req) {{\n  return req.{t};\n}}\n\n"
        for t in topics
    )
    py = "".join(
        f'def write_{t}(response):\n    """Write the {t} of an outgoing response."""\n'
        f"    return response.{t}\n\n\n"
        for t in topics[:3]
    )
    repo = make_repo(files={"lib/read.js": js, "app/write.py": py})
    args = ["eval", str(repo.root), "--model", str(codeqa_index.model_dir)]
    table = CliRunner().invoke(cli, args)
    assert table.exit_code == 0, table.output
    assert "\njavascript (11 queries)\nconfiguration" in table.stdout
    assert "Too few queries for a table of their own: python 3" in table.stdout
