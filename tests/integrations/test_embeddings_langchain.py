"""LangChain adapter: loads the tiny official-format C2LLM checkpoint and the real MiniLM."""

from __future__ import annotations

import asyncio
import copy
import pickle
import threading
from pathlib import Path

import numpy as np
import pytest
from langchain_c2rag import C2LLMEmbeddings
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import InMemoryVectorStore
from pydantic import ValidationError

from c2rag.encode.engine import Encoder
from c2rag.encode.prompts import TASK_PROMPTS

CODE = "def add(a, b):\n    return a + b\n"


@pytest.fixture(scope="module")
def embeddings(tiny_c2llm_dir: Path) -> C2LLMEmbeddings:
    return C2LLMEmbeddings(tiny_c2llm_dir, task="codeqa_multiturn", device="cpu", dtype="fp32")


def test_is_langchain_embeddings_with_documented_fields(embeddings: C2LLMEmbeddings) -> None:
    assert isinstance(embeddings, Embeddings)
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


def test_huggingface_option_names(tiny_c2llm_dir: Path) -> None:
    """The names of ``HuggingFaceEmbeddings`` work; the repr shows the model actually loaded."""
    embeddings = C2LLMEmbeddings(
        model_name=tiny_c2llm_dir,
        cache_folder=str(tiny_c2llm_dir.parent),
        model_kwargs={"device": "cpu", "torch_dtype": "float32", "trust_remote_code": False},
        encode_kwargs={"normalize_embeddings": True, "batch_size": 4},
    )
    assert embeddings.model_name == str(tiny_c2llm_dir)
    assert (embeddings.device, embeddings.dtype, embeddings.pooling) == ("cpu", "float32", "pma")
    assert embeddings.cache_folder == str(tiny_c2llm_dir.parent)
    assert f"max_length={embeddings.client.max_length}" in repr(embeddings)
    assert C2LLMEmbeddings(model=str(tiny_c2llm_dir), device="cpu").model_name == str(
        tiny_c2llm_dir
    )


def test_options_it_cannot_honour_are_refused(tiny_c2llm_dir: Path) -> None:
    with pytest.raises(ValueError, match="trust_remote_code"):
        C2LLMEmbeddings(tiny_c2llm_dir, model_kwargs={"trust_remote_code": True})
    with pytest.raises(ValueError, match="normalize_embeddings"):
        C2LLMEmbeddings(tiny_c2llm_dir, encode_kwargs={"normalize_embeddings": False})
    with pytest.raises(ValueError, match="'prompts'"):
        C2LLMEmbeddings(tiny_c2llm_dir, model_kwargs={"prompts": {}})


def test_effective_max_length_is_shown(minilm_dir: Path) -> None:
    embeddings = C2LLMEmbeddings(minilm_dir, device="cpu", max_length=2048)
    assert embeddings.max_length == embeddings.client.max_length < 2048
    assert f"max_length={embeddings.max_length}" in repr(embeddings)
    assert "model_name=None" not in repr(C2LLMEmbeddings(encoder=embeddings.client))


def test_pickle_reloads_lazily_and_deepcopy_shares(embeddings: C2LLMEmbeddings) -> None:
    restored = pickle.loads(pickle.dumps(embeddings))
    assert restored._encoder is None  # nothing loaded until first use
    np.testing.assert_allclose(
        restored.embed_query("add"), embeddings.embed_query("add"), atol=1e-6
    )
    assert restored.model_dump() == embeddings.model_dump()
    assert copy.deepcopy(embeddings).client is embeddings.client
    assert C2LLMEmbeddings.model_validate_json(embeddings.model_dump_json()).model_dump() == (
        embeddings.model_dump()
    )


def test_in_memory_vector_store_after_deepcopy(minilm_dir: Path) -> None:
    original = C2LLMEmbeddings(minilm_dir, device="cpu", dtype="fp32")
    texts = [
        "def add(a, b):\n    return a + b",
        "def read_file(path):\n    return open(path).read()",
    ]
    for embeddings in (copy.deepcopy(original), pickle.loads(pickle.dumps(original))):
        store = InMemoryVectorStore(embedding=embeddings)
        store.add_texts(texts)
        [(best, score)] = store.similarity_search_with_score("load the contents of a file", k=1)
        assert "read_file" in best.page_content
        assert score == pytest.approx(
            float(
                np.dot(
                    original.embed_query("load the contents of a file"),
                    original.embed_documents([texts[1]])[0],
                )
            ),
            abs=1e-5,
        )
