"""A LangChain tool that lets an agent search the code of a repository."""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, Field

from c2rag.errors import C2RAGError
from c2rag.retrieve import CodeQASession, CodeRetriever

__all__ = ["CodeSearchInput", "create_code_search_tool"]

_DESCRIPTION = (
    "Search the code of the repository. Input: a question in plain words, or names of "
    "functions, classes or files. Returns code snippets, each headed by a citation "
    "path:start-end@commit. Snippets already returned earlier in the conversation are listed "
    "as references instead of repeated. Follow-up questions ('who calls it?') refer to the "
    "previous results."
)


class CodeSearchInput(BaseModel):
    """Arguments of the code search tool."""

    query: str = Field(description="What to look for: a question, identifiers or a path.")
    path_glob: str | None = Field(
        default=None, description="Only files matching this glob, e.g. 'src/**/*.py'."
    )
    language: str | None = Field(default=None, description="Only this language, e.g. 'python'.")


def create_code_search_tool(
    retriever: CodeRetriever,
    *,
    name: str = "code_search",
    description: str = _DESCRIPTION,
    k: int = 8,
    budget_tokens: int = 3000,
    count_tokens: Callable[[str], int] | None = None,
    handle_tool_error: bool | str | Callable[[ToolException], str] = True,
) -> BaseTool:
    """A tool returning packed, cited code context for an agent's question.

    The tool keeps a :class:`c2rag.retrieve.CodeQASession`, so successive calls form a
    conversation: follow-ups resolve against earlier results, and code already returned comes
    back as a reference.

    Args:
        retriever: An open :class:`c2rag.retrieve.CodeRetriever`.
        name: Tool name shown to the model.
        description: Tool description shown to the model.
        k: Hits considered per call.
        budget_tokens: Token budget of each answer.
        count_tokens: The agent LLM's tokenizer (default: an estimate).
        handle_tool_error: LangChain's setting for a :class:`ToolException`: bad input (an
            empty query, an unknown language) is raised as one, and by default its message goes
            back to the model as the tool's answer instead of ending the agent loop.
    """
    session = CodeQASession(retriever, budget_tokens=budget_tokens, k=k, count_tokens=count_tokens)

    def search_code(query: str, path_glob: str | None = None, language: str | None = None) -> str:
        filters = {
            "paths": (path_glob,) if path_glob else (),
            "languages": (language,) if language else (),
        }
        try:
            turn = session.ask(query, filters=filters)
        except (C2RAGError, ValueError) as exc:
            raise ToolException(f"{name} failed: {exc}") from exc
        text = turn.render()
        return text or "No matching code found."

    return StructuredTool.from_function(
        func=search_code,
        name=name,
        description=description,
        args_schema=CodeSearchInput,
        handle_tool_error=handle_tool_error,
    )
