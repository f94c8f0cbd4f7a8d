"""A scripted stand-in for a chat model, used by the examples ONLY when you configured none.

It is not a language model and it does not understand anything. It exists so that the
examples run end to end on a machine without an API key or a local LLM, and still show the
part that c2rag does: which code was retrieved and how it is cited. Pass your own model
(any LangChain chat model that supports tool calling, any LlamaIndex LLM) and it is not used.

What it does:

* :class:`ScriptedChatModel` (LangChain): on a user message it emits a real tool call to the
  first bound tool, with the user's message as the query; once the tool result comes back it
  answers by quoting the citations (``path:start-end@sha``) found in that result.
* :class:`ScriptedLLM` (LlamaIndex): answers a prompt by quoting the citations in the context
  the query engine put into it; asked by a chat engine to make a follow-up standalone, it
  prefixes the earlier user questions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from llama_index.core.base.llms.types import (
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.llms import CustomLLM
from llama_index.core.llms.callbacks import llm_completion_callback

__all__ = ["ScriptedChatModel", "ScriptedLLM", "find_citations", "scripted_answer"]

# c2rag's citation format, path:start-end@sha (see c2rag.types.Citation)
_CITATION = re.compile(r"(?<![\w./-])[\w./-]+:\d+-\d+@[0-9a-f]{7,40}")

NOTICE = "[scripted stand-in model: no LLM configured, so this answer only lists the citations]"


def find_citations(text: str) -> list[str]:
    """The distinct c2rag citations (``path:start-end@sha``) in ``text``, in order of appearance."""
    return list(dict.fromkeys(_CITATION.findall(text)))


def scripted_answer(question: str, context: str) -> str:
    """The stand-in's whole "reasoning": quote the citations of the retrieved context."""
    citations = find_citations(context)
    if not citations:
        return f"{NOTICE}\nThe index returned no code for: {question}"
    lines = "\n".join(f"- {c}" for c in citations)
    return f"{NOTICE}\nThe code relevant to {question!r} is at:\n{lines}"


def _query_parameter(tool: dict[str, Any]) -> str:
    """Name of the tool argument that takes the search text."""
    parameters = tool["function"].get("parameters", {})
    properties: dict[str, Any] = parameters.get("properties", {})
    if "query" in properties:
        return "query"
    strings = [name for name, spec in properties.items() if spec.get("type") == "string"]
    required = [name for name in strings if name in parameters.get("required", [])]
    if not (required or strings):
        name = tool["function"]["name"]
        msg = f"tool {name!r} takes no string argument to put the question in: {properties}"
        raise ValueError(msg)
    return (required or strings)[0]


class ScriptedChatModel(BaseChatModel):
    """A LangChain chat model that calls the bound search tool, then quotes its citations.

    A stand-in for a real chat model, used by the examples only when none is configured.

    Example:
        >>> model = ScriptedChatModel().bind_tools([code_search_tool])  # doctest: +SKIP
        >>> model.invoke("Where are files chunked?").tool_calls  # doctest: +SKIP
        [{'name': 'search_code', 'args': {'query': 'Where are files chunked?'}, ...}]
    """

    @property
    def _llm_type(self) -> str:
        return "c2rag-scripted"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[Any, AIMessage]:
        """Bind tools the way tool-calling chat models do (OpenAI tool schemas)."""
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        *,
        tools: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        question = next((m.text for m in reversed(messages) if isinstance(m, HumanMessage)), "")
        last = messages[-1] if messages else None
        if tools and isinstance(last, HumanMessage):
            # First step of a turn: ask for retrieval, exactly as a tool-calling LLM would.
            tool = tools[0]
            call = {
                "name": tool["function"]["name"],
                "args": {_query_parameter(tool): question},
                "id": f"call_{len(messages)}",
                "type": "tool_call",
            }
            message = AIMessage(content="", tool_calls=[call])
        else:
            # After the tool results (or with the context already in the prompt): answer.
            results = [m.text for m in self._this_turn(messages) if isinstance(m, ToolMessage)]
            context = "\n".join(results) if results else "\n".join(m.text for m in messages)
            message = AIMessage(content=scripted_answer(question, context))
        return ChatResult(generations=[ChatGeneration(message=message)])

    @staticmethod
    def _this_turn(messages: list[BaseMessage]) -> list[BaseMessage]:
        """The messages after the last user message (tool results of earlier turns excluded)."""
        for i in range(len(messages) - 1, -1, -1):
            if isinstance(messages[i], HumanMessage):
                return messages[i + 1 :]
        return messages


def _condense(prompt: str) -> str:
    """A chat engine's "rewrite the follow-up as a standalone question" step, scripted: the
    earlier user questions followed by the follow-up, so retrieval sees the whole thread."""
    history = prompt.split("<Chat History>", 1)[1].split("<Follow Up Message>", 1)[0]
    follow_up = prompt.split("<Follow Up Message>", 1)[1].split("<Standalone question>", 1)[0]
    asked = [
        line[len("user:") :].strip() for line in history.splitlines() if line.startswith("user:")
    ]
    return " ".join([*asked, follow_up.strip()])


class ScriptedLLM(CustomLLM):
    """A LlamaIndex LLM that answers by quoting the citations in the context it is given.

    A stand-in for a real LLM, used by the examples only when none is configured.
    """

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="c2rag-scripted", context_window=1_000_000)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        if "<Standalone question>" in prompt:
            return CompletionResponse(text=_condense(prompt))
        # LlamaIndex's question-answering prompt ends with "Query: <question>\nAnswer: ".
        if "Query:" in prompt:
            question = prompt.rsplit("Query:", 1)[1].split("Answer:", 1)[0].strip()
        else:
            # A chat prompt ends with an empty "assistant:" line; the question is before it.
            lines = [line for line in prompt.splitlines() if line.strip() not in ("", "assistant:")]
            question = lines[-1] if lines else ""
        return CompletionResponse(text=scripted_answer(question, prompt))

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        response = self.complete(prompt, formatted=formatted, **kwargs)

        def gen() -> Iterator[CompletionResponse]:
            yield CompletionResponse(text=response.text, delta=response.text)

        return gen()
