"""A LlamaIndex query engine over c2rag's retriever, asked a multi-turn question.

    python agent_examples/llamaindex_query_engine.py           # this repository, 3 questions
    python agent_examples/llamaindex_query_engine.py --repo ../myproj -q "Where is auth done?"
    C2RAG_EXAMPLE_LLM=llama_index.llms.openai:OpenAI \
        python agent_examples/llamaindex_query_engine.py

``C2RAGRetriever`` returns scored nodes whose metadata carries the citation
(``path:start-end@sha``), symbol, kind and lines. A ``RetrieverQueryEngine`` answers one
question from them; a ``CondenseQuestionChatEngine`` around it turns each follow-up into a
standalone question with the LLM, which makes the conversation multi-turn.

Any LlamaIndex LLM works. With none configured, the scripted stand-in from
``scripted_llm.py`` is used: it quotes the citations of the retrieved nodes.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from example_setup import example_repo, open_retriever, questions_from_env, user_llm
from llama_index.core.chat_engine import CondenseQuestionChatEngine
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.retrievers.c2rag import C2RAGRetriever
from scripted_llm import ScriptedLLM

from c2rag import CodeRetriever

__all__ = ["build_chat_engine", "main", "show_sources"]


def build_chat_engine(
    retriever: CodeRetriever, llm: Any | None = None, *, k: int = 5
) -> CondenseQuestionChatEngine:
    """A multi-turn chat engine over a query engine over c2rag's LlamaIndex retriever."""
    llm = llm if llm is not None else ScriptedLLM()
    nodes = C2RAGRetriever(retriever, k=k)
    query_engine = RetrieverQueryEngine.from_args(nodes, llm=llm)
    return CondenseQuestionChatEngine.from_defaults(query_engine=query_engine, llm=llm)


def show_sources(response: Any) -> None:
    """Print the cited nodes an answer was given."""
    for source in response.source_nodes:
        meta = source.node.metadata
        print(f"  {meta['citation']}  {meta.get('name', '')}  (score {source.score:.3f})")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", default=None, help="repository (default: $C2RAG_EXAMPLE_REPO)")
    parser.add_argument("-q", "--question", action="append", help="a turn (repeatable)")
    args = parser.parse_args(argv)
    llm = user_llm()
    if llm is None:
        print("No LLM configured ($C2RAG_EXAMPLE_LLM): using the scripted stand-in.")
    engine = build_chat_engine(open_retriever(args.repo or example_repo()), llm)
    for question in args.question or questions_from_env():
        print(f"=== user: {question}")
        response = engine.chat(question)
        print("--- retrieved:")
        show_sources(response)
        print(f"=== assistant:\n{response.response}\n")


if __name__ == "__main__":
    main()
