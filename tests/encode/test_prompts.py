"""Prompts are exactly the ones the published C2LLM scores were measured with."""

# ruff: noqa: E501 - each expected prompt stays on one line, as in the reference table

from __future__ import annotations

import pytest

from c2rag.encode.prompts import (
    C2LLM_DOCUMENT_PROMPT,
    C2LLM_PROMPTS,
    JINA_CODE_PROMPTS,
    NO_PROMPTS,
    TASK_PROMPTS,
)

# Straight from the reference table (c2llm.md), including the "(sic)" typo of CodeEditSearch.
EXPECTED = {
    "text2code": "Retrieve the code that solves the following query:\n",
    "cosqa": "Given a query from a web search, retrieve code that is helpful in addressing the query.\n",
    "apps": "Given a problem description from a programming contest, retrieve code examples that can assist in solving it.\n",
    "code2code_continuation": "Given an initial code segment, retrieve the subsequent segment that continues the code.\n",
    "text2sql": "Given a natural language question, retrieve SQL queries that serve as appropriate responses.\n",
    "stackoverflow_qa": "Given a question combining text and code, retrieve relevant answers that also contain both text and code snippets and can address the question.\n",
    "codeqa_singleturn": "Given a single-turn question composed of text and code, retrieve suitable answers that also mix text and code to provide helpful feedback.\n",
    "codeqa_multiturn": "Given a multi-turn conversation history that includes both text and code, retrieve relevant multi-modal answers composed of text and code that address the ongoing discussion.\n",
    "code_translation": "Given a Python code snippet, retrieve its semantically equivalent version written in C++.\n",
    "code_edit": "Retrieve the diff code that relevant the following query:\n",
    "code2docstring": "Given a code snippet, retrieve its corresponding document string that summarizes its functionality.\n",
}  # fmt: skip


def test_task_prompts_are_exact() -> None:
    assert dict(TASK_PROMPTS) == EXPECTED


def test_document_prompt_is_exact_for_every_task() -> None:
    assert C2LLM_DOCUMENT_PROMPT == "Retrieved Answer:"
    assert {C2LLM_PROMPTS.document_prompt(task) for task in EXPECTED} == {"Retrieved Answer:"}


def test_query_prompt_default_and_custom_instruction() -> None:
    assert C2LLM_PROMPTS.query_prompt() == EXPECTED["text2code"]
    assert C2LLM_PROMPTS.query_prompt("cosqa") == EXPECTED["cosqa"]
    assert C2LLM_PROMPTS.query_prompt("cosqa", "Find the bug") == "Find the bug\n"
    assert C2LLM_PROMPTS.query_prompt(instruction="Find it:\n") == "Find it:\n"
    assert C2LLM_PROMPTS.query_prompt(instruction="") == ""


def test_unknown_task_lists_valid_tasks() -> None:
    with pytest.raises(ValueError, match="unknown task 'text2cod'") as info:
        C2LLM_PROMPTS.query_prompt("text2cod")
    assert all(task in str(info.value) for task in EXPECTED)


def test_jina_prompts_cover_named_tasks_only() -> None:
    assert JINA_CODE_PROMPTS.query_prompt("text2code") == (
        "Find the most relevant code snippet given the following query:\n"
    )
    assert JINA_CODE_PROMPTS.document_prompt("text2code") == "Candidate code snippet:\n"
    assert JINA_CODE_PROMPTS.document_prompt("stackoverflow_qa") == "Candidate answer:\n"
    with pytest.raises(ValueError, match="no jina-code-embeddings prompt"):
        JINA_CODE_PROMPTS.query_prompt("text2sql")


def test_plain_models_get_no_prompt_but_tasks_are_still_checked() -> None:
    assert NO_PROMPTS.query_prompt("codeqa_multiturn") == ""
    assert NO_PROMPTS.document_prompt() == ""
    with pytest.raises(ValueError, match="valid tasks"):
        NO_PROMPTS.query_prompt("nope")
