"""Task prompts: the exact instruction prefixes that produced the published scores.

A prompt is concatenated in front of the text with no separator. C2LLM gives every document
``Retrieved Answer:`` and every query the prefix of its task (each ends with a newline).
jina-code-embeddings (last-token pooling) has its own query/document pairs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "C2LLM_DOCUMENT_PROMPT",
    "C2LLM_PROMPTS",
    "JINA_CODE_PROMPTS",
    "NO_PROMPTS",
    "TASK_PROMPTS",
    "PromptSet",
]

C2LLM_DOCUMENT_PROMPT = "Retrieved Answer:"
"""Prefix of every document for C2LLM (no trailing space or newline)."""

TASK_PROMPTS: Mapping[str, str] = MappingProxyType(
    {
        "text2code": "Retrieve the code that solves the following query:\n",
        "cosqa": (
            "Given a query from a web search, retrieve code that is helpful in addressing "
            "the query.\n"
        ),
        "apps": (
            "Given a problem description from a programming contest, retrieve code examples "
            "that can assist in solving it.\n"
        ),
        "code2code_continuation": (
            "Given an initial code segment, retrieve the subsequent segment that continues "
            "the code.\n"
        ),
        "text2sql": (
            "Given a natural language question, retrieve SQL queries that serve as appropriate "
            "responses.\n"
        ),
        "stackoverflow_qa": (
            "Given a question combining text and code, retrieve relevant answers that also "
            "contain both text and code snippets and can address the question.\n"
        ),
        "codeqa_singleturn": (
            "Given a single-turn question composed of text and code, retrieve suitable answers "
            "that also mix text and code to provide helpful feedback.\n"
        ),
        "codeqa_multiturn": (
            "Given a multi-turn conversation history that includes both text and code, "
            "retrieve relevant multi-modal answers composed of text and code that address the "
            "ongoing discussion.\n"
        ),
        "code_translation": (
            "Given a Python code snippet, retrieve its semantically equivalent version written "
            "in C++.\n"
        ),
        # "relevant" (sic): the prompt the published CodeEditSearch score was measured with.
        "code_edit": "Retrieve the diff code that relevant the following query:\n",
        "code2docstring": (
            "Given a code snippet, retrieve its corresponding document string that summarizes "
            "its functionality.\n"
        ),
    }
)
"""C2LLM query prefix per task (the reference table, verbatim)."""


@dataclass(frozen=True)
class PromptSet:
    """Query prefixes per task and the document prefix(es) of one model family."""

    name: str
    queries: Mapping[str, str]
    documents: Mapping[str, str] | str
    """One prefix for every document, or one per task."""
    default_task: str | None = None

    def query_prompt(self, task: str | None = None, instruction: str | None = None) -> str:
        """The prefix for a query.

        Args:
            task: A key of :attr:`queries`; ``None`` means the family's default task.
            instruction: A custom instruction used instead of the task's; a newline is
                appended when it does not end in one, as the table's prefixes do (``""``
                means no prefix at all).

        Raises:
            ValueError: For a task this family does not know, listing the valid ones.
        """
        if instruction is not None:
            return (
                instruction if not instruction or instruction.endswith("\n") else instruction + "\n"
            )
        task = task if task is not None else self.default_task
        if task is None:
            return ""
        if task not in TASK_PROMPTS:
            msg = f"unknown task {task!r}; valid tasks: {', '.join(TASK_PROMPTS)}"
            raise ValueError(msg)
        if not self.queries:  # a model trained without instructions
            return ""
        if task not in self.queries:
            msg = (
                f"task {task!r} has no {self.name} prompt; valid tasks for this model: "
                f"{', '.join(self.queries)} (or pass instruction=)"
            )
            raise ValueError(msg)
        return self.queries[task]

    def document_prompt(self, task: str | None = None) -> str:
        """The prefix for a document (independent of the task for C2LLM)."""
        if isinstance(self.documents, str):
            return self.documents
        self.check_task(task)
        task = task if task is not None else self.default_task
        return self.documents.get(task, "") if task is not None else ""

    def check_task(self, task: str | None) -> None:
        """Raise the ``ValueError`` of :meth:`query_prompt` early for a bad task."""
        self.query_prompt(task)


C2LLM_PROMPTS = PromptSet(
    name="C2LLM",
    queries=TASK_PROMPTS,
    documents=C2LLM_DOCUMENT_PROMPT,
    default_task="text2code",
)

_JINA_TEXT2CODE = (
    "Find the most relevant code snippet given the following query:\n",
    "Candidate code snippet:\n",
)
_JINA_QA = ("Find the most relevant answer given the following question:\n", "Candidate answer:\n")
_JINA_TASKS = {
    "text2code": _JINA_TEXT2CODE,
    "stackoverflow_qa": _JINA_QA,
    "codeqa_singleturn": _JINA_QA,
    "codeqa_multiturn": _JINA_QA,
}
JINA_CODE_PROMPTS = PromptSet(
    name="jina-code-embeddings",
    queries=MappingProxyType({task: pair[0] for task, pair in _JINA_TASKS.items()}),
    documents=MappingProxyType({task: pair[1] for task, pair in _JINA_TASKS.items()}),
    default_task="text2code",
)
"""Prefixes of jina-code-embeddings (last-token pooling) for the tasks it names."""

NO_PROMPTS = PromptSet(name="plain", queries=MappingProxyType({}), documents="")
"""Models trained without instructions: texts are embedded as they are."""
