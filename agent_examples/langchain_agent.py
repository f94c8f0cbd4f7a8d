"""A LangChain agent that answers questions about a repository with c2rag as its search tool.

    python agent_examples/langchain_agent.py                  # this repository, 3 questions
    python agent_examples/langchain_agent.py --repo ../myproj -q "Where is auth done?"
    C2RAG_EXAMPLE_CHAT_MODEL=langchain_openai:ChatOpenAI python agent_examples/langchain_agent.py

The agent is the classic tool-calling loop: the chat model decides to call ``code_search``,
the tool returns cited code (``path:start-end@sha``), the model answers from it. The tool
keeps a c2rag session, so follow-up questions ("and who calls it?") resolve against earlier
turns and code already shown comes back as a reference, not a repeat.

Any LangChain chat model that supports tool calling works (``bind_tools``). With none
configured, the scripted stand-in from ``scripted_llm.py`` is used: it calls the tool and
quotes the citations, so you still see what c2rag retrieves.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from example_setup import example_repo, open_retriever, questions_from_env, user_chat_model
from langchain_c2rag import create_code_search_tool
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.tools import BaseTool
from scripted_llm import ScriptedChatModel

from c2rag import CodeRetriever

__all__ = ["ask", "build_agent", "main"]

SYSTEM = (
    "You answer questions about a code repository. Use the code_search tool to find the "
    "code; answer only from what it returns and cite it as path:start-end@sha."
)


def build_agent(retriever: CodeRetriever, chat_model: Any | None = None) -> tuple[Any, BaseTool]:
    """The chat model (or the scripted stand-in) with c2rag's search tool bound, and the tool."""
    tool = create_code_search_tool(retriever)
    model = chat_model if chat_model is not None else ScriptedChatModel()
    return model.bind_tools([tool]), tool


def ask(
    agent: Any, tool: BaseTool, messages: list[BaseMessage], question: str, *, max_steps: int = 4
) -> AIMessage:
    """One turn: let the model call the tool until it answers; print the cited context."""
    messages.append(HumanMessage(question))
    for _ in range(max_steps):
        reply: AIMessage = agent.invoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            return reply
        for call in reply.tool_calls:
            result = tool.invoke(call)  # a ToolMessage answering this call
            print(f"--- {call['name']}({call['args']}) returned:\n{result.content}\n")
            messages.append(result)
    msg = f"no answer after {max_steps} model calls"
    raise RuntimeError(msg)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", default=None, help="repository (default: $C2RAG_EXAMPLE_REPO)")
    parser.add_argument("-q", "--question", action="append", help="a turn (repeatable)")
    args = parser.parse_args(argv)
    repo = args.repo or example_repo()
    chat_model = user_chat_model()
    if chat_model is None:
        print("No chat model configured ($C2RAG_EXAMPLE_CHAT_MODEL): using the scripted stand-in.")
    agent, tool = build_agent(open_retriever(repo), chat_model)
    messages: list[BaseMessage] = [SystemMessage(SYSTEM)]
    for question in args.question or questions_from_env():
        print(f"=== user: {question}\n")
        answer = ask(agent, tool, messages, question)
        print(f"=== assistant:\n{answer.text}\n")


if __name__ == "__main__":
    main()
