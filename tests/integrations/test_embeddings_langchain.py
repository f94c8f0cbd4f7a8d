"""LangChain adapter: loads the tiny official-format C2LLM checkpoint and the real MiniLM."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import numpy as np
import pytest
from langchain_c2rag import C2LLMEmbeddings
from langchain_core.embeddings import Embeddings
from pydantic import ValidationError

from c2rag.encode.engine import Encoder
from c2rag.encode.prompts import TASK_PROMPTS

CODE = "def add(a, b):\n    return a + b\n"


@pytest.fixture(scope="module")
def embeddings(tiny_c2llm_dir: Path) -> C2LLMEmbeddings:
    return C2LLMEmbeddings(tiny_c2llm_dir, task="codeqa_multiturn", device="cpu", dtype="fp32")


def test_is_langchain_embeddings_with_documented_fields(embeddings: C2LLMEmbeddings) -> None:
    assert isinstance(embeddings, Embeddings)
    assert embeddings.model == str(embeddings.model)
    assert all(field.description for field in C2LLMEmbeddings.model_fields.values())


def test_documents_and_query_match_the_encoder(
    embeddings: C2LLMEmbeddings, tiny_encoder: Encoder
) -> None:
    documents = embeddings.embed_documents([CODE, "x = 1"])
    assert len(documents) == 2
    assert all(isinstance(v, float) for v in documents[0])
    np.testing.assert_allclose(documents, tiny_encoder.encode_documents([CODE, "x = 1"]), atol=1e-6)
    query = embeddings.embed_query("where are numbers added?")
    expected = tiny_encoder.encode_queries(["where are numbers added?"], task="codeqa_multiturn")
    np.testing.assert_allclose(query, expected[0], atol=1e-6)
    spelled = tiny_encoder.encode_queries(
        [TASK_PROMPTS["codeqa_multiturn"] + "where are numbers added?"], instruction=""
    )
    np.testing.assert_allclose(query, spelled[0], atol=1e-6)


def test_newlines_are_kept(embeddings: C2LLMEmbeddings) -> None:
    with_newlines, flattened = embeddings.embed_documents([CODE, CODE.replace("\n", " ")])
    assert not np.allclose(with_newlines, flattened)


def test_async_runs_off_the_event_loop(embeddings: C2LLMEmbeddings) -> None:
    threads: list[int] = []
    backbone = embeddings.client.module.plm_model.model
    handle = backbone.register_forward_pre_hook(lambda *_: threads.append(threading.get_ident()))

    async def run() -> tuple[list[list[float]], list[float], int]:
        documents, query = await asyncio.gather(
            embeddings.aembed_documents([CODE]), embeddings.aembed_query("add numbers")
        )
        return documents, query, threading.get_ident()

    try:
        documents, query, loop_thread = asyncio.run(run())
    finally:
        handle.remove()
    assert threads and loop_thread not in threads
    np.testing.assert_allclose(documents, embeddings.embed_documents([CODE]), atol=1e-6)
    np.testing.assert_allclose(query, embeddings.embed_query("add numbers"), atol=1e-6)


def test_unknown_options_and_tasks_are_refused(tiny_c2llm_dir: Path, tiny_encoder: Encoder) -> None:
    with pytest.raises(ValidationError, match="batch_szie"):
        C2LLMEmbeddings(tiny_c2llm_dir, batch_szie=3)
    with pytest.raises(ValueError, match="valid tasks"):
        C2LLMEmbeddings(encoder=tiny_encoder, task="search")


def test_shares_a_loaded_encoder(tiny_encoder: Encoder) -> None:
    shared = C2LLMEmbeddings(encoder=tiny_encoder, instruction="Find the adder")
    assert shared.client is tiny_encoder
    expected = tiny_encoder.encode_queries(["add"], instruction="Find the adder")
    np.testing.assert_allclose(shared.embed_query("add"), expected[0], atol=1e-6)


def test_minilm_through_langchain(minilm_dir: Path) -> None:
    embeddings = C2LLMEmbeddings(str(minilm_dir), device="cpu", dtype="fp32")
    documents = embeddings.embed_documents(
        ["def add(a, b):\n    return a + b", "def read_file(path):\n    return open(path).read()"]
    )
    query = embeddings.embed_query("load the contents of a file")
    assert np.argmax(np.asarray(documents) @ np.asarray(query)) == 1
