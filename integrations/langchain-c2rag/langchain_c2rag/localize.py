"""A LangChain tool that tells an agent which files and functions a bug report is about."""

from __future__ import annotations

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from c2rag.retrieve import CodeRetriever

__all__ = ["LocalizeInput", "create_localize_tool"]

_DESCRIPTION = (
    "Find the files of the repository a bug report, issue, error log or stack trace is about. "
    "Input: the whole report text (long texts and tracebacks are fine). Returns files ranked "
    "best first, each with its most relevant functions (citations path:start-end@commit) and "
    "the evidence that ranked it (stack frames, names in the text, lexical and semantic "
    "matches). Use it to plan which files to open and edit."
)


class LocalizeInput(BaseModel):
    """Arguments of the localize tool."""

    text: str = Field(description="The bug report, issue, log or stack trace, whole.")
    path_glob: str | None = Field(
        default=None, description="Only files matching this glob, e.g. 'src/**/*.py'."
    )


def create_localize_tool(
    retriever: CodeRetriever,
    *,
    name: str = "localize_code",
    description: str = _DESCRIPTION,
    k: int = 5,
    symbols_per_file: int = 3,
) -> BaseTool:
    """A tool returning the ``k`` files (and their functions) a report points at.

    Args:
        retriever: An open :class:`c2rag.retrieve.CodeRetriever`.
        name: Tool name shown to the model.
        description: Tool description shown to the model.
        k: Files per answer.
        symbols_per_file: Functions listed under each file.
    """
    if k < 1:
        msg = f"k must be at least 1, got {k}"
        raise ValueError(msg)

    def localize_code(text: str, path_glob: str | None = None) -> str:
        filters = {"paths": (path_glob,) if path_glob else ()}
        result = retriever.localize(text, k=k, filters=filters, symbols_per_file=symbols_per_file)
        lines = [result.render() or "No matching files found."]
        lines += [f"note: {note}" for note in result.notes]
        return "\n".join(lines)

    return StructuredTool.from_function(
        func=localize_code, name=name, description=description, args_schema=LocalizeInput
    )
