"""Setup shared by the examples: the repository, its index, and the user's language model.

Everything can be chosen with environment variables, so the scripts and the notebook run
unchanged on your repository and with your model:

=============================  =========================================================
``C2RAG_EXAMPLE_REPO``         repository to index (default: this c2rag checkout)
``C2RAG_STORE``                where the index lives (default: c2rag's per-user data dir)
``C2RAG_MODEL``                embedding model (default: C2LLM-0.5B if cached, else MiniLM)
``C2RAG_EXAMPLE_CHAT_MODEL``   LangChain chat model, as ``module:factory`` (called with no
                               arguments), e.g. ``langchain_openai:ChatOpenAI``
``C2RAG_EXAMPLE_LLM``          LlamaIndex LLM, as ``module:factory``, e.g.
                               ``llama_index.llms.openai:OpenAI``
=============================  =========================================================

Without a chat model or LLM the examples use the scripted stand-ins of ``scripted_llm.py``,
which only quote the citations they were given.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from c2rag import CodeIndex, CodeRetriever, Encoder
from c2rag.encode.defaults import resolve_default_model
from c2rag.git import GitRepo

__all__ = [
    "DEFAULT_QUESTIONS",
    "example_repo",
    "open_retriever",
    "questions_from_env",
    "user_chat_model",
    "user_llm",
]

# A three-turn conversation about this repository (the same as `make demo`).
DEFAULT_QUESTIONS = (
    "Where does the indexer decide which files changed since the last run?",
    "And which function embeds the new chunks?",
    "Does that skip chunks that were embedded before?",
)


def example_repo() -> Path:
    """The repository the examples index: ``$C2RAG_EXAMPLE_REPO`` or this checkout."""
    configured = os.environ.get("C2RAG_EXAMPLE_REPO", "").strip()
    return Path(configured) if configured else Path(__file__).resolve().parent.parent


def questions_from_env() -> tuple[str, ...]:
    """``$C2RAG_EXAMPLE_QUESTIONS`` (one question per line), else :data:`DEFAULT_QUESTIONS`."""
    lines = os.environ.get("C2RAG_EXAMPLE_QUESTIONS", "").splitlines()
    return tuple(q.strip() for q in lines if q.strip()) or DEFAULT_QUESTIONS


def open_retriever(repo: str | os.PathLike[str]) -> CodeRetriever:
    """Index (or incrementally update) ``repo``, then open a retriever on that index.

    One encoder serves both, so the model loads once. The model is c2rag's default
    (``$C2RAG_MODEL``, else C2LLM-0.5B if cached, else the bundled MiniLM).
    """
    model = resolve_default_model().name_or_path
    encoder = Encoder(model)
    # model= as well as encoder=: the index then records where the model came from, so
    # `c2rag search`, `c2rag chat` and `c2rag mcp` can reopen it later.
    index = CodeIndex(
        repo, encoder=encoder, model=model, store_dir=os.environ.get("C2RAG_STORE") or None
    )
    print(index.update().summary())
    return CodeRetriever(index.open_store(), encoder, GitRepo(repo))


def _load(spec: str) -> Any:
    module, _, attr = spec.partition(":")
    if not module or not attr:
        msg = f"expected 'module:factory', got {spec!r}"
        raise ValueError(msg)
    factory = getattr(importlib.import_module(module), attr)
    return factory() if callable(factory) else factory


def user_chat_model() -> Any | None:
    """The LangChain chat model named by ``$C2RAG_EXAMPLE_CHAT_MODEL``, if any."""
    spec = os.environ.get("C2RAG_EXAMPLE_CHAT_MODEL", "").strip()
    return _load(spec) if spec else None


def user_llm() -> Any | None:
    """The LlamaIndex LLM named by ``$C2RAG_EXAMPLE_LLM``, if any."""
    spec = os.environ.get("C2RAG_EXAMPLE_LLM", "").strip()
    return _load(spec) if spec else None
