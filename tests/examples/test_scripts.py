"""The plain-script examples, run as a user runs them: a subprocess with no LLM configured."""

from __future__ import annotations

import subprocess

from tests.examples.support import CITATION, EXAMPLES, QUESTIONS


def run_example(python: str, script: str, env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(
        [python, str(EXAMPLES / script), *args],
        env=env,
        cwd=EXAMPLES.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def turns(output: str) -> list[str]:
    """The output of each conversation turn (from one '=== user:' to the next)."""
    return output.split("=== user: ")[1:]


def test_langchain_agent_calls_the_tool_and_cites_each_turn(python, example_env):
    output = run_example(python, "langchain_agent.py", example_env)
    assert "scripted stand-in" in output
    assert "full build:" in output
    blocks = turns(output)
    assert [b.splitlines()[0] for b in blocks] == list(QUESTIONS)
    for block in blocks:
        context, answer = block.split("=== assistant:")
        # a real tool call with the user's words, then the cited code it returned
        assert "--- code_search({'query': " in context
        cited = CITATION.findall(context)
        assert cited, context
        assert set(CITATION.findall(answer)) <= set(cited)
        assert CITATION.findall(answer), answer
    first_context = blocks[0].split("=== assistant:")[0]
    assert "retry_with_backoff" in first_context
    # later turns continue the same c2rag session: code shown before is referenced
    assert "Already in context above" in "".join(blocks[1:])


def test_llamaindex_chat_engine_shows_sources_and_cites_them(python, example_env):
    # repository and questions from the command line this time
    env = dict(example_env)
    repo = env.pop("C2RAG_EXAMPLE_REPO")
    del env["C2RAG_EXAMPLE_QUESTIONS"]
    args = ["--repo", repo, *(arg for q in QUESTIONS for arg in ("-q", q))]
    output = run_example(python, "llamaindex_query_engine.py", env, *args)
    assert "scripted stand-in" in output
    blocks = turns(output)
    assert [b.splitlines()[0] for b in blocks] == list(QUESTIONS)
    for block in blocks:
        sources, answer = block.split("=== assistant:")
        assert CITATION.findall(sources)
        assert set(CITATION.findall(answer)) == set(CITATION.findall(sources))
    assert "storage.upload.retry_with_backoff" in blocks[0].split("=== assistant:")[0]
    # the chat engine made the follow-up standalone with the earlier question
    assert "Where are failed uploads retried? And who calls it?" in blocks[1]
